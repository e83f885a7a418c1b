#pragma once

#include <chrono>
#include <memory>

#include "messages/protocols.hpp"

namespace leasehold {

struct node_metrics;
class progress_board;

/// Settings of the heartbeat actor.
struct heartbeat_config {
  /// Time between renewals (10s).
  std::chrono::milliseconds interval{10000};
  /// Where renewals are counted (may be null).
  std::shared_ptr<node_metrics> metrics;
  /// Handlers' progress reports, written with each renewal (may be null).
  std::shared_ptr<progress_board> progress;
};

/// Renews this node's instance row and all of its in-flight leases, in one
/// transaction per tick (one statement for all leases). An instance row no
/// longer ours is reported as orphan_atom.
/// Every lease that does not come back renewed is reported lost to the
/// supervisor, which ends that attempt's executor with ownership_lost.
struct heartbeat_state {
  static inline const char* name = "heartbeat";
  bool renewing = false; // skip a tick rather than pile up renewals
  bool again = false;    // told to renew while renewing: once more after
  bool draining = false; // a drain was asked for and passed on
  int64_t renewals = 0;  // leases renewed so far
};

heartbeat_actor::behavior_type
heartbeat_actor_impl(heartbeat_actor::stateful_pointer<heartbeat_state> self,
                     heartbeat_config cfg, persistence_actor store,
                     supervisor_actor supervisor);

} // namespace leasehold
