// leasehold-bench: measurement scenarios, one JSON result line each.
//   throughput: bulk-enqueue N noop jobs, drain them with K in-process nodes
//     of C slots; enqueue jobs/s and drain jobs/s (first claim to last
//     completion, from the database's own timestamps).
//   observer: fill the jobs table with N rows (98% succeeded, 1% dead, 1%
//     queued on an unserved queue), then time GET /health and /dead-jobs.
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include <httplib.h>

#include <algorithm>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/log.hpp"
#include "runtime/node.hpp"

using namespace leasehold;
using clock_type = std::chrono::steady_clock;

namespace {

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return xs[std::min(xs.size() - 1, static_cast<size_t>(p * static_cast<double>(xs.size())))];
}

// Times `samples` GETs of `path` over one keep-alive connection, in ms.
nlohmann::json time_get(httplib::Client& http, const std::string& path, int samples) {
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    auto t0 = clock_type::now();
    auto res = http.Get(path.c_str());
    ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    if (!res || res->status != 200)
      throw std::runtime_error("GET " + path + " failed");
  }
  return {{"p50_ms", percentile(ms, 0.5)}, {"p90_ms", percentile(ms, 0.9)},
          {"p99_ms", percentile(ms, 0.99)}, {"max_ms", percentile(ms, 1.0)}};
}

int observer_scenario(store& db, const std::string& url, int64_t jobs) {
  auto t0 = clock_type::now();
  db.execute("INSERT INTO leasehold.jobs (type, queue, status, attempts, last_error_code,"
             " finished_at, created_at)"
             " SELECT (ARRAY['email','resize','report','sync'])[1 + g % 4],"
             " CASE WHEN g % 100 = 1 THEN 'backlog' ELSE 'default' END,"
             " CASE WHEN g % 100 = 0 THEN 'failed' WHEN g % 100 = 1 THEN 'queued'"
             " ELSE 'succeeded' END, 1,"
             " CASE WHEN g % 100 = 0 THEN 'max_attempts_exceeded' END,"
             " CASE WHEN g % 100 <> 1 THEN now() - (g % 172800) * interval '1 second' END,"
             " now() - (g % 172800) * interval '1 second'"
             " FROM generate_series(1, " + std::to_string(jobs) + ") AS g");
  db.execute("ANALYZE leasehold.jobs");
  auto fill_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::cerr << "filled " << jobs << " jobs in " << fill_s << " s\n";
  auto handlers = std::make_shared<handler_registry>();
  node_config cfg;
  cfg.database_url = url;
  cfg.migrate = false;
  cfg.http_listen = "127.0.0.1:0";
  node n{cfg, handlers};
  n.start();
  httplib::Client http{"127.0.0.1", n.http_port()};
  http.set_keep_alive(true);
  time_get(http, "/health", 5); // warm-up
  nlohmann::json result = {{"scenario", "observer"},
                           {"jobs", jobs},
                           {"health", time_get(http, "/health", 200)},
                           {"dead_jobs", time_get(http, "/dead-jobs?limit=50", 200)}};
  n.stop();
  std::cout << result.dump() << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"leasehold-bench: end-to-end throughput of noop jobs"};
  std::string url;
  if (const char* env = std::getenv("DATABASE_URL"))
    url = env;
  int64_t jobs = 10000;
  int nodes = 1;
  int32_t concurrency = 50;
  bool reset = false;
  std::string scenario = "throughput";
  app.add_option("--database-url", url, "PostgreSQL URL (default $DATABASE_URL)");
  app.add_option("--jobs", jobs, "Jobs to enqueue and drain")->capture_default_str();
  app.add_option("--nodes", nodes, "Nodes (in this process)")->capture_default_str();
  app.add_option("--concurrency", concurrency, "Slots per node")->capture_default_str();
  app.add_option("--scenario", scenario, "throughput or observer")
    ->check(CLI::IsMember({"throughput", "observer"}))->capture_default_str();
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
      db.execute("TRUNCATE leasehold.jobs, leasehold.job_runs,"
                 " leasehold.worker_instances RESTART IDENTITY");
    else if (db.query_value("SELECT count(*) FROM leasehold.jobs").value_or("0") != "0")
      throw std::runtime_error("leasehold.jobs is not empty: use a scratch database"
                               " and pass --reset to empty it");
    if (scenario == "observer")
      return observer_scenario(db, url, jobs);
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
