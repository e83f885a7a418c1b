// depth: the cost of one claim (batch of 100) with 10k, 100k and 1M jobs
// queued. The claim walks a partial index in order and stops after LIMIT
// rows, so it should not grow with depth.
#include <iostream>

#include "benchmarks/bench_common.hpp"

namespace leasehold::bench {

nlohmann::json depth_scenario(const bench_args& a) {
  constexpr int32_t batch = 100;
  auto results = nlohmann::json::array();
  for (auto depth : a.depths) {
    store db{a.url};
    reset_tables(db);
    register_bench_worker(db, "bench-depth");
    db.execute("INSERT INTO leasehold.jobs (type, queue) SELECT 'noop', 'deep'"
               " FROM generate_series(1, " + std::to_string(depth) + ")");
    db.execute("ANALYZE leasehold.jobs");
    auto claims = static_cast<int>(std::min<int64_t>(200, depth / batch / 2));
    // A new connection's first claims are slower (cold caches): not
    // measured. This store keeps Postgres's default planning, so every claim
    // here is also planned (a node's are not: statement_plans::generic).
    for (int i = 0; i < 6; ++i)
      db.claim("bench-depth", "deep", batch, {"noop"});
    std::vector<double> ms;
    int64_t claimed = 0;
    auto t0 = clock_type::now();
    for (int i = 0; i < claims; ++i) {
      auto c0 = clock_type::now();
      claimed += static_cast<int64_t>(db.claim("bench-depth", "deep", batch, {"noop"}).size());
      ms.push_back(seconds_since(c0) * 1000);
    }
    auto total = seconds_since(t0);
    std::cerr << "depth " << depth << ": " << claims << " claims\n";
    auto row = latency_summary(ms);
    row["depth"] = depth;
    row["batch"] = batch;
    row["claimed_jobs_per_s"] = static_cast<int64_t>(static_cast<double>(claimed) / total);
    results.push_back(row);
  }
  return {{"claims", results}};
}

} // namespace leasehold::bench
