#pragma once

#include <memory>
#include <string>

#include "messages/protocols.hpp"
#include "runtime/health.hpp"

namespace leasehold {

struct node_metrics;

/// Settings of the observer actor.
struct observer_config {
  std::string worker_id;
  observe_thresholds thresholds;
  alert_thresholds alerts;
  std::shared_ptr<node_metrics> metrics;
  /// This node's cluster links, which gather GET /cluster (null: off).
  cluster_actor cluster;
};

/// Gathers what operators ask for: database figures through its own
/// persistence actor (so reads never queue behind claims), live counters
/// from the supervisor and the shared metrics. Read-only except for the
/// admin writes it passes on (enqueue, retry, cancel).
struct observer_state {
  static inline const char* name = "observer";
};

observer_actor::behavior_type
observer_actor_impl(observer_actor::stateful_pointer<observer_state> self,
                    observer_config cfg, persistence_actor store,
                    supervisor_actor supervisor);

} // namespace leasehold
