#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

/// What crosses a cluster link between two nodes. These are wire types:
/// registered under versioned names ("leasehold::cluster_view/1"), and a
/// released one never changes its fields. A newer node adds a type with a
/// new name instead (docs/cluster-plan.md, F9). Nothing here carries
/// authority: Postgres decides ownership, a message only says "look now".
namespace leasehold {

/// One attempt a node is running (or holds claimed ahead, `prefetched`).
struct cluster_attempt_v1 {
  int64_t job_id = 0;
  std::string type;
  std::string queue;
  int32_t attempt = 0;
  int64_t age_ms = 0;
  std::string trace_id;
  /// The handler's latest progress as JSON text ("" when none reported).
  std::string progress;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_attempt_v1& x) {
  return f(caf::meta::type_name("cluster_attempt_v1"), x.job_id, x.type, x.queue,
           x.attempt, x.age_ms, x.trace_id, x.progress);
}

/// A node's link to one peer, as that node sees it.
struct cluster_link_v1 {
  std::string worker_id;
  std::string endpoint;
  /// "connecting", "up", "down" or "backoff".
  std::string state;
  /// Why it is not up ("" when up).
  std::string reason;
  /// How long it has been in this state.
  int64_t since_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_link_v1& x) {
  return f(caf::meta::type_name("cluster_link_v1"), x.worker_id, x.endpoint, x.state,
           x.reason, x.since_ms);
}

/// One node's live state, read from its actors without touching the job
/// tables.
struct cluster_view_v1 {
  std::string worker_id;
  std::string version;
  std::string protocol;
  int64_t uptime_ms = 0;
  int64_t pool_busy = 0;
  int64_t pool_size = 0;
  int64_t prefetched = 0;
  double claims_per_second = 0;
  double completions_per_second = 0;
  /// Supervised actor failures by exit reason since the node started.
  std::map<std::string, int64_t> failures;
  std::vector<cluster_attempt_v1> attempts;
  std::vector<cluster_link_v1> links;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view_v1& x) {
  return f(caf::meta::type_name("cluster_view_v1"), x.worker_id, x.version, x.protocol,
           x.uptime_ms, x.pool_busy, x.pool_size, x.prefetched, x.claims_per_second,
           x.completions_per_second, x.failures, x.attempts, x.links);
}

/// The message version 2 adds (registered as "leasehold::cluster_echo/2"
/// by nodes that speak it, and by no others).
struct cluster_echo_v2 {
  std::string from;
  int64_t sent_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_echo_v2& x) {
  return f(caf::meta::type_name("cluster_echo_v2"), x.from, x.sent_ms);
}

} // namespace leasehold
