// leasehold-bench: end-to-end throughput. Bulk-enqueues N noop jobs, then
// drains them with K in-process nodes of C slots each, and prints one JSON
// line: enqueue jobs/s and drain jobs/s (first claim to last completion,
// from the database's own timestamps).
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/log.hpp"
#include "runtime/node.hpp"

using namespace leasehold;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  CLI::App app{"leasehold-bench: end-to-end throughput of noop jobs"};
  std::string url;
  if (const char* env = std::getenv("DATABASE_URL"))
    url = env;
  int64_t jobs = 10000;
  int nodes = 1;
  int32_t concurrency = 50;
  bool reset = false;
  app.add_option("--database-url", url, "PostgreSQL URL (default $DATABASE_URL)");
  app.add_option("--jobs", jobs, "Jobs to enqueue and drain")->capture_default_str();
  app.add_option("--nodes", nodes, "Nodes (in this process)")->capture_default_str();
  app.add_option("--concurrency", concurrency, "Slots per node")->capture_default_str();
  app.add_flag("--reset", reset, "Empty leasehold's tables first (scratch databases only)");
  CLI11_PARSE(app, argc, argv);
  if (url.empty()) {
    std::cerr << "leasehold-bench: no database: pass --database-url\n";
    return 1;
  }
  try {
    log::init("bench", log::level::warn);
    store db{url};
    db.migrate();
    if (reset)
      db.execute("TRUNCATE leasehold.jobs, leasehold.job_runs RESTART IDENTITY");
    else if (db.query_value("SELECT count(*) FROM leasehold.jobs").value_or("0") != "0")
      throw std::runtime_error("leasehold.jobs is not empty: use a scratch database"
                               " and pass --reset to empty it");
    std::vector<new_job> batch(static_cast<size_t>(jobs));
    for (auto& j : batch)
      j.type = "noop";
    auto t0 = clock_type::now();
    db.enqueue_many(batch);
    auto enqueue_s = std::chrono::duration<double>(clock_type::now() - t0).count();
    db.execute("ANALYZE leasehold.jobs");
    std::cerr << "enqueued " << jobs << " jobs in " << enqueue_s << " s\n";

    auto handlers = std::make_shared<handler_registry>();
    add_builtin_handlers(*handlers);
    node_config cfg;
    cfg.database_url = url;
    cfg.concurrency = concurrency;
    cfg.migrate = false;
    std::vector<std::unique_ptr<node>> running;
    for (int i = 0; i < nodes; ++i) {
      running.push_back(std::make_unique<node>(cfg, handlers));
      running.back()->start();
    }
    auto done = [&] {
      return std::stoll(db.query_value("SELECT count(*) FROM leasehold.jobs"
                                       " WHERE status = 'succeeded'")
                          .value_or("0"));
    };
    int64_t finished = 0;
    while ((finished = done()) < jobs) {
      std::cerr << "\rdrained " << finished << " / " << jobs << std::flush;
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
    }
    std::cerr << "\rdrained " << finished << " / " << jobs << "\n";
    for (auto& n : running)
      n->stop();
    auto drain_s = std::stod(
      db.query_value("SELECT extract(epoch FROM max(finished_at) - min(started_at))"
                     " FROM leasehold.job_runs")
        .value_or("0"));
    nlohmann::json result = {
      {"scenario", "throughput"},
      {"jobs", jobs},
      {"nodes", nodes},
      {"concurrency", concurrency},
      {"enqueue_jobs_per_s", static_cast<int64_t>(jobs / enqueue_s)},
      {"drain_seconds", drain_s},
      {"drain_jobs_per_s", static_cast<int64_t>(jobs / drain_s)},
    };
    std::cout << result.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "leasehold-bench: " << redact_database_url(e.what()) << "\n";
    return 1;
  }
}
