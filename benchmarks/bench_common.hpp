#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "persistence/store.hpp"

/// Shared pieces of leasehold-bench's scenarios.
namespace leasehold::bench {

using clock_type = std::chrono::steady_clock;

/// Settings every scenario receives.
struct bench_args {
  std::string url;
  int64_t jobs = 10000;
  int nodes = 2;
  int32_t concurrency = 1000;
  int samples = 200;
  std::chrono::milliseconds pace{50};
  std::vector<int64_t> depths = {10000, 100000, 1000000};
  std::vector<int64_t> in_flight = {1000, 10000};
  std::string leasehold_bin; // the node binary, for footprint
};

/// {p50_ms, p90_ms, p99_ms, max_ms} of samples in milliseconds.
nlohmann::json latency_summary(std::vector<double> ms);

double seconds_since(clock_type::time_point t0);

/// Empties leasehold's tables (scenarios run on a scratch database).
void reset_tables(store& db);

/// Registers `worker_id` as a running instance: only a registered worker
/// may claim, renew and complete.
void register_bench_worker(store& db, const std::string& worker_id);

/// CPU seconds used so far by all postgres server processes on this host.
double postgres_cpu_seconds();

nlohmann::json throughput_scenario(const bench_args& a);
nlohmann::json latency_scenario(const bench_args& a);
nlohmann::json depth_scenario(const bench_args& a);
nlohmann::json heartbeat_scenario(const bench_args& a);
nlohmann::json observer_scenario(const bench_args& a);
nlohmann::json footprint_scenario(const bench_args& a);

} // namespace leasehold::bench
