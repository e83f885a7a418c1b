#pragma once

#include <chrono>

#include "messages/protocols.hpp"

namespace leasehold {

/// Settings of the reaper actor.
struct reaper_config {
  /// Time between sweeps (5s).
  std::chrono::milliseconds interval{5000};
  /// A running job without a heartbeat for this long has expired (30s).
  std::chrono::milliseconds lease_ttl{30000};
  /// Backoff of the requeued attempt (1s base, doubling, capped at 1h).
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_cap{3600 * 1000};
  /// Instances silent this long are marked STOPPED (30s), STOPPING ones
  /// after the stop timeout (60s).
  std::chrono::milliseconds stale_after{30000};
  std::chrono::milliseconds stop_timeout{60000};
};

/// Requeues running jobs whose lease expired and marks silent instances
/// STOPPED, on every node; the sweep's SKIP LOCKED makes concurrent reapers
/// safe. A crashed node's jobs thus run elsewhere within about lease TTL +
/// interval.
struct reaper_state {
  static inline const char* name = "reaper";
  bool sweeping = false;
};

reaper_actor::behavior_type
reaper_actor_impl(reaper_actor::stateful_pointer<reaper_state> self,
                  reaper_config cfg, persistence_actor store);

} // namespace leasehold
