#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

/// Live figures of one node that actors update on their hot paths (lock-free)
/// and the observer reads for /metrics.
namespace leasehold {

/// A Prometheus-style histogram with fixed buckets, in seconds.
class histogram {
public:
  static constexpr std::array<double, 12> bounds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30};

  void observe(double seconds);
  /// Prometheus text lines for metric `name` (buckets, sum, count).
  std::string render(const std::string& name, const std::string& help) const;

private:
  std::array<std::atomic<int64_t>, bounds.size() + 1> counts_{};
  std::atomic<int64_t> sum_micros_{0};
};

struct node_metrics {
  std::atomic<int64_t> lease_renewals{0};
  histogram claim_seconds;
  histogram job_seconds;
  /// What this node's pruner deleted (migration 025), and its passes.
  std::atomic<int64_t> pruned_succeeded{0};
  std::atomic<int64_t> pruned_dead{0};
  std::atomic<int64_t> pruned_runs{0};
  std::atomic<int64_t> pruned_attempts{0};
  std::atomic<int64_t> pruned_instances{0};
  std::atomic<int64_t> pruned_violations{0};
  std::atomic<int64_t> pruned_unique_keys{0};
  std::atomic<int64_t> prune_passes{0};
  /// Nudges from peers over cluster links (a cancel, drain or pause seen
  /// at once instead of at the next heartbeat).
  std::atomic<int64_t> cluster_nudges{0};
};

} // namespace leasehold
