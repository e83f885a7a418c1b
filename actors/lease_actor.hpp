#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "messages/protocols.hpp"

namespace leasehold {

struct node_metrics;

/// Settings of the lease actor.
struct lease_config {
  /// Queues served and the attempts each may run at once ({"default": 10}).
  std::map<std::string, int32_t> queues;
  /// Attempts already running per queue when the actor (re)starts.
  std::map<std::string, int32_t> in_flight;
  /// Fallback poll when no NOTIFY arrives (1s).
  std::chrono::milliseconds poll_interval{1000};
  /// Where claim latencies are recorded (may be null).
  std::shared_ptr<node_metrics> metrics;
};

/// Claims due jobs up to the node's free capacity, one statement per queue,
/// and hands them to the supervisor. Woken by NOTIFY, by a freed slot, and
/// by a poll tick as fallback.
//
//   claiming --stop--> stopped (claims nothing more)
struct lease_state {
  static inline const char* name = "lease";
  std::map<std::string, int32_t> free;
  std::set<std::string> claiming; // a claim is in flight for these queues
  std::set<std::string> recheck;  // woken while claiming: look again after
  bool stopped = false;
  bool store_down = false; // to log an outage once, not every tick
};

lease_actor::behavior_type
lease_actor_impl(lease_actor::stateful_pointer<lease_state> self,
                 lease_config cfg, persistence_actor store,
                 supervisor_actor supervisor);

} // namespace leasehold
