// throughput: bulk-enqueue N noop jobs, then drain them with K nodes of C
// slots; jobs/s from the first claim to the last completion, by the
// database's own timestamps.
#include <sys/resource.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <thread>

#include "benchmarks/bench_common.hpp"
#include "runtime/node.hpp"

namespace leasehold::bench {

namespace {

// CPU seconds (user + system) this process has used: the nodes run in it.
double process_cpu_seconds() {
  rusage use{};
  getrusage(RUSAGE_SELF, &use);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(use.ru_utime) + secs(use.ru_stime);
}

} // namespace

nlohmann::json throughput_scenario(const bench_args& a) {
  store db{a.url};
  std::vector<new_job> batch(static_cast<size_t>(a.jobs));
  for (auto& j : batch)
    j.type = "noop";
  auto t0 = clock_type::now();
  db.enqueue_many(batch);
  auto enqueue_s = seconds_since(t0);
  db.execute("ANALYZE leasehold.jobs");
  std::cerr << "enqueued " << a.jobs << " jobs in " << enqueue_s << " s\n";
  auto handlers = std::make_shared<handler_registry>();
  add_builtin_handlers(*handlers);
  // The no-op handler, counting its runs: the harness watches this counter
  // instead of polling the database, whose count(*) over a growing job_runs
  // took ~15% of a core away from the drain it measures.
  auto handled = std::make_shared<std::atomic<int64_t>>(0);
  handlers->add(
    "noop",
    [handled](job_context&) {
      handled->fetch_add(1, std::memory_order_relaxed);
      return handler_result::success();
    },
    handler_mode::non_blocking);
  node_config cfg;
  cfg.database_url = a.url;
  cfg.concurrency = a.concurrency;
  cfg.migrate = false;
  cfg.http_listen = "off";
  // CPU per job, of the nodes and of Postgres, from node start to the last
  // completion: what the drain costs, less noisy than its rate.
  auto node_cpu0 = process_cpu_seconds();
  auto postgres_cpu0 = postgres_cpu_seconds();
  std::vector<std::unique_ptr<node>> nodes;
  for (int i = 0; i < a.nodes; ++i) {
    nodes.push_back(std::make_unique<node>(cfg, handlers));
    nodes.back()->start();
  }
  auto done = [&] {
    return std::stoll(db.query_value("SELECT count(*) FROM leasehold.job_runs"
                                     " WHERE outcome = 'succeeded'").value_or("0"));
  };
  for (int64_t n = 0; (n = handled->load()) < a.jobs;) {
    std::cerr << "\rhandled " << n << " / " << a.jobs << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  // Completions are written in batches after the handlers return.
  while (done() < a.jobs)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  std::cerr << "\rdrained " << a.jobs << " / " << a.jobs << "\n";
  auto per_job_us = [&](double cpu_s) { return cpu_s * 1e6 / static_cast<double>(a.jobs); };
  auto node_cpu_us = per_job_us(process_cpu_seconds() - node_cpu0);
  auto postgres_cpu_us = per_job_us(postgres_cpu_seconds() - postgres_cpu0);
  for (auto& n : nodes)
    n->stop();
  auto drain_s = std::stod(db.query_value("SELECT extract(epoch FROM max(finished_at)"
                                          " - min(started_at)) FROM leasehold.job_runs")
                             .value_or("0"));
  return {{"jobs", a.jobs},
          {"nodes", a.nodes},
          {"concurrency", a.concurrency},
          {"enqueue_jobs_per_s", static_cast<int64_t>(static_cast<double>(a.jobs) / enqueue_s)},
          {"drain_seconds", drain_s},
          {"drain_jobs_per_s", static_cast<int64_t>(static_cast<double>(a.jobs) / drain_s)},
          {"node_cpu_us_per_job", node_cpu_us},
          {"postgres_cpu_us_per_job", postgres_cpu_us}};
}

} // namespace leasehold::bench
