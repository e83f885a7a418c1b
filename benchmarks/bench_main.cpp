// leasehold-bench: measurement scenarios, each printing progress on stderr
// and one JSON result line on stdout. Run on a scratch database: scenarios
// empty leasehold's tables (--reset is required when they hold rows).
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "benchmarks/bench_common.hpp"
#include "runtime/log.hpp"

using namespace leasehold;
using namespace leasehold::bench;

namespace {

std::vector<int64_t> number_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(std::stoll(item));
  return out;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"leasehold-bench: throughput, latency, depth, heartbeat, observer, footprint"};
  bench_args a;
  if (const char* env = std::getenv("DATABASE_URL"))
    a.url = env;
  std::string scenarios = "throughput";
  std::string depths = "10000,100000,1000000";
  std::string in_flight = "1000,10000";
  int pace_ms = 50;
  bool reset = false;
  app.add_option("--database-url", a.url, "PostgreSQL URL (default $DATABASE_URL)");
  app.add_option("--scenario", scenarios,
                 "Comma list of: throughput, latency, depth, heartbeat, observer, footprint")
    ->capture_default_str();
  app.add_option("--jobs", a.jobs, "throughput/observer: jobs")->capture_default_str();
  app.add_option("--nodes", a.nodes, "throughput: nodes (in this process)")->capture_default_str();
  app.add_option("--concurrency", a.concurrency, "throughput: slots per node")->capture_default_str();
  app.add_option("--samples", a.samples, "latency/observer: samples")->capture_default_str();
  app.add_option("--pace-ms", pace_ms, "latency: ms between paced enqueues")->capture_default_str();
  app.add_option("--depths", depths, "depth: queued jobs to measure at")->capture_default_str();
  app.add_option("--in-flight", in_flight, "heartbeat/footprint: leases in flight")
    ->capture_default_str();
  app.add_option("--leasehold-bin", a.leasehold_bin, "footprint: the leasehold binary");
  app.add_flag("--reset", reset, "Empty leasehold's tables first (scratch databases only)");
  CLI11_PARSE(app, argc, argv);
  if (a.url.empty()) {
    std::cerr << "leasehold-bench: no database: pass --database-url\n";
    return 1;
  }
  try {
    a.pace = std::chrono::milliseconds{pace_ms};
    a.depths = number_list(depths);
    a.in_flight = number_list(in_flight);
    log::init("bench", log::level::warn);
    {
      store db{a.url};
      db.migrate();
      if (!reset && db.query_value("SELECT count(*) FROM leasehold.jobs").value_or("0") != "0")
        throw std::runtime_error("leasehold.jobs is not empty: use a scratch database"
                                 " and pass --reset");
    }
    std::stringstream list{scenarios};
    std::string name;
    while (std::getline(list, name, ',')) {
      store db{a.url};
      reset_tables(db);
      nlohmann::json result;
      if (name == "throughput")
        result = throughput_scenario(a);
      else if (name == "latency")
        result = latency_scenario(a);
      else if (name == "depth")
        result = depth_scenario(a);
      else if (name == "heartbeat")
        result = heartbeat_scenario(a);
      else if (name == "observer")
        result = observer_scenario(a);
      else if (name == "footprint")
        result = footprint_scenario(a);
      else
        throw std::runtime_error("unknown scenario '" + name + "'");
      result["scenario"] = name;
      std::cout << result.dump() << std::endl;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "leasehold-bench: " << redact_database_url(e.what()) << "\n";
    return 1;
  }
}
