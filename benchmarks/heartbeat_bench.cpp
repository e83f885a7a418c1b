// heartbeat: M leases in flight renewed in ONE statement per tick; time and
// rows per tick, and the Postgres CPU it costs.
#include <iostream>

#include "benchmarks/bench_common.hpp"

namespace leasehold::bench {

nlohmann::json heartbeat_scenario(const bench_args& a) {
  constexpr int ticks = 20;
  const std::string worker = "bench-heartbeat";
  auto results = nlohmann::json::array();
  for (auto m : a.in_flight) {
    store db{a.url};
    reset_tables(db);
    // The instance row too: renewal heartbeats it first.
    register_bench_worker(db, worker);
    db.execute("INSERT INTO leasehold.jobs (type, status, attempts, locked_by, heartbeat_at)"
               " SELECT 'sleep', 'running', 1, '" + worker + "', now()"
               " FROM generate_series(1, " + std::to_string(m) + ")");
    db.execute("ANALYZE leasehold.jobs");
    std::vector<lease_ref> leases;
    for (int64_t id = 1; id <= m; ++id)
      leases.push_back({id, 1});
    std::vector<double> ms;
    size_t renewed = 0;
    auto cpu0 = postgres_cpu_seconds();
    auto t0 = clock_type::now();
    for (int i = 0; i < ticks; ++i) {
      auto r0 = clock_type::now();
      auto reply = db.renew(worker, leases);
      ms.push_back(seconds_since(r0) * 1000);
      renewed = leases.size() - reply.lost.size();
    }
    auto wall = seconds_since(t0);
    auto cpu = postgres_cpu_seconds() - cpu0;
    std::cerr << "heartbeat " << m << " leases: " << ticks << " ticks\n";
    auto row = latency_summary(ms);
    row["in_flight"] = m;
    row["rows_per_tick"] = renewed;
    row["statements_per_tick"] = 1;
    row["postgres_cpu_ms_per_tick"] = cpu * 1000 / ticks;
    row["postgres_cpu_share_while_renewing"] = cpu / wall;
    results.push_back(row);
  }
  return {{"ticks", results}};
}

} // namespace leasehold::bench
