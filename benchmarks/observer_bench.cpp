// observer: fill the jobs table with N rows (98% succeeded, 1% dead, 1%
// queued on a queue no node serves), then time GET /health and /dead-jobs
// over one keep-alive connection.
#include <httplib.h>

#include <iostream>

#include "benchmarks/bench_common.hpp"
#include "runtime/node.hpp"

namespace leasehold::bench {

namespace {

// Times `samples` GETs of `path`, in ms.
nlohmann::json time_get(httplib::Client& http, const std::string& path, int samples) {
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    auto t0 = clock_type::now();
    auto res = http.Get(path.c_str());
    ms.push_back(seconds_since(t0) * 1000);
    if (!res || res->status != 200)
      throw std::runtime_error("GET " + path + " failed");
  }
  return latency_summary(ms);
}

} // namespace

nlohmann::json observer_scenario(const bench_args& a) {
  store db{a.url};
  const auto& url = a.url;
  auto jobs = a.jobs;
  auto t0 = clock_type::now();
  // One job in a hundred queued, one dead, the rest succeeded, finished over
  // two days. Succeeded jobs live in job_runs (migration 011), the others in
  // jobs, as a node leaves them.
  const auto series = " FROM generate_series(1, " + std::to_string(jobs) + ") AS g";
  db.execute("INSERT INTO leasehold.jobs (type, queue, status, attempts, last_error_code,"
             " finished_at, created_at)"
             " SELECT (ARRAY['email','resize','report','sync'])[1 + g % 4],"
             " CASE WHEN g % 100 = 1 THEN 'backlog' ELSE 'default' END,"
             " CASE WHEN g % 100 = 0 THEN 'failed' ELSE 'queued' END, 1,"
             " CASE WHEN g % 100 = 0 THEN 'max_attempts_exceeded' END,"
             " CASE WHEN g % 100 = 0 THEN now() - (g % 172800) * interval '1 second' END,"
             " now() - (g % 172800) * interval '1 second'"
             + series + " WHERE g % 100 IN (0, 1)");
  db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at,"
             " finished_at, outcome, type, queue, priority, payload, max_attempts, run_at,"
             " correlation_id, created_at)"
             " SELECT g, 1, 'bench', now() - (g % 172800) * interval '1 second',"
             " now() - (g % 172800) * interval '1 second', 'succeeded',"
             " (ARRAY['email','resize','report','sync'])[1 + g % 4], 'default', 0, '{}', 25,"
             " now() - (g % 172800) * interval '1 second', gen_random_uuid()::text,"
             " now() - (g % 172800) * interval '1 second'"
             + series + " WHERE g % 100 NOT IN (0, 1)");
  db.execute("ANALYZE leasehold.job_runs");
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
  nlohmann::json result = {{"jobs", jobs},
                           {"health", time_get(http, "/health", a.samples)},
                           {"dead_jobs", time_get(http, "/dead-jobs?limit=50", a.samples)}};
  n.stop();
  return result;
}

} // namespace leasehold::bench
