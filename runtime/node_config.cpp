// A node's settings: defaults and the checks every value must pass before
// anything starts.
#include "runtime/node.hpp"

#include <stdexcept>

#include "runtime/duration.hpp"
#include "runtime/http_bridge.hpp"
#include "runtime/input_limits.hpp"

namespace leasehold {

namespace {

void require(bool ok, const std::string& key, std::chrono::milliseconds value,
             const std::string& rule) {
  if (!ok)
    throw std::invalid_argument("invalid --" + key + " "
                                + format_duration(value) + ": " + rule);
}

} // namespace

retention_policy default_retention() {
  retention_policy p;
  p.succeeded_ms = defaults::retention::succeeded.count();
  p.dead_ms = defaults::retention::dead.count();
  p.runs_ms = defaults::retention::runs.count();
  p.instances_ms = defaults::retention::instances.count();
  p.violations_ms = defaults::retention::violations.count();
  p.batch = defaults::prune_batch;
  p.budget_ms = defaults::prune_budget.count();
  p.pause_ms = defaults::prune_pause.count();
  p.share_percent = defaults::prune_share_percent;
  return p;
}

void node_config::validate() const {
  if (database_url.empty())
    throw std::invalid_argument(
      "no database: pass --database-url or set DATABASE_URL");
  if (concurrency < 1 || concurrency > 10000)
    throw std::invalid_argument("invalid --concurrency "
                                + std::to_string(concurrency)
                                + ": must be between 1 and 10000");
  // Names go into every claim and registration: one Postgres cannot take
  // (invalid UTF-8) would fail each of them, forever, after a clean start.
  for (const auto& [name, n] : queues) {
    if (name.empty() || n < 1 || n > 10000)
      throw std::invalid_argument("invalid --queue " + name + "="
                                  + std::to_string(n)
                                  + ": needs a name and 1..10000 slots");
    check_name("--queue", name);
  }
  if (prefetch < 0 || prefetch > 100000)
    throw std::invalid_argument("invalid --prefetch " + std::to_string(prefetch)
                                + ": must be between 0 and 100000");
  require(prefetch_horizon.count() >= 0, "prefetch-horizon", prefetch_horizon,
          "must not be negative");
  require(prefetch_max_hold.count() >= 10, "prefetch-max-hold", prefetch_max_hold,
          "must be at least 10ms");
  require(schedule_interval.count() == 0 || schedule_interval.count() >= 10,
          "schedule-interval", schedule_interval, "must be 0ms (off) or at least 10ms");
  require(prune_interval.count() == 0 || prune_interval.count() >= 1000,
          "prune-interval", prune_interval, "must be 0ms (off) or at least 1s");
  require(retention.pause_ms >= 0 && retention.pause_ms <= 10000, "prune-pause",
          std::chrono::milliseconds{retention.pause_ms}, "must be between 0ms and 10s");
  if (retention.share_percent < 1 || retention.share_percent > 100)
    throw std::invalid_argument("invalid --prune-share " + std::to_string(retention.share_percent)
                                + "%: must be from 1% to 100%");
  if (retention.batch < 1 || retention.batch > 100000)
    throw std::invalid_argument("invalid retention batch " + std::to_string(retention.batch)
                                + ": must be between 1 and 100000");
  require(completion_linger.count() >= 0 && completion_linger.count() <= 1000,
          "completion-linger", completion_linger, "must be between 0ms and 1s");
  require(heartbeat_interval.count() >= 10, "heartbeat-interval",
          heartbeat_interval, "must be at least 10ms");
  require(lease_ttl > heartbeat_interval, "lease-ttl", lease_ttl,
          "must be longer than --heartbeat-interval");
  require(poll_interval.count() >= 10, "poll-interval", poll_interval,
          "must be at least 10ms");
  require(reap_interval.count() >= 10, "reap-interval", reap_interval,
          "must be at least 10ms");
  require(stale_after > heartbeat_interval, "stale-after", stale_after,
          "must be longer than --heartbeat-interval");
  if (http_listen != "off")
    parse_http_listen(http_listen);
  cluster.validate();
  if (worker_type.empty())
    throw std::invalid_argument("invalid --worker-type: must not be empty");
  check_name("--worker-type", worker_type);
  check_name("--worker-base", worker_base);
  require(retry_base.count() >= 1, "retry-base", retry_base,
          "must be at least 1ms");
  require(retry_cap >= retry_base, "retry-cap", retry_cap,
          "must be at least --retry-base");
  payload_limits(max_payload_bytes);
  if (max_output_bytes < 64 || max_output_bytes > max_payload_limit)
    throw std::invalid_argument("invalid --max-output-bytes " + std::to_string(max_output_bytes)
                                + ": must be from 64 to " + std::to_string(max_payload_limit));
  require(attempt_timeout.count() >= 1, "attempt-timeout", attempt_timeout,
          "must be at least 1ms");
}

std::map<std::string, int32_t> node_config::effective_queues() const {
  if (!queues.empty())
    return queues;
  return {{defaults::queue, concurrency}};
}

} // namespace leasehold
