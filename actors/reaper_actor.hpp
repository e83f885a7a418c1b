#pragma once

#include <chrono>
#include <optional>

#include "messages/protocols.hpp"

namespace leasehold {

/// Settings of the reaper actor.
struct reaper_config {
  /// Time between sweeps (5s).
  std::chrono::milliseconds interval{5000};
  /// A running job without a heartbeat for this long has expired (30s),
  /// for owners that recorded no TTL of their own.
  std::chrono::milliseconds lease_ttl{30000};
  /// Backoff of the requeued attempt (1s base, doubling, capped at 1h).
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_cap{3600 * 1000};
  /// Instances silent this long are marked STOPPED (30s), STOPPING ones
  /// after the stop timeout (60s).
  std::chrono::milliseconds stale_after{30000};
  std::chrono::milliseconds stop_timeout{60000};
};

/// Requeues running jobs whose owner is gone and marks silent instances
/// STOPPED, on every node, each judged by its own terms; the sweep's SKIP
/// LOCKED makes concurrent reapers safe. A crashed node's jobs thus run
/// elsewhere within about its TTL + interval.
///
/// Fair liveness: the reaper only counts silence it watched while the
/// database answered it. Its window opens at its first sweep that succeeds
/// and closes at any sweep that fails or answers late (Postgres down,
/// frozen or too slow), so time the database was unusable is nobody's
/// fault: after an outage every node has its full TTL to renew again.
//
//   blind --sweep answered in time--> watching (window grows)
//   watching --sweep failed or late--> blind
struct reaper_state {
  static inline const char* name = "reaper";
  bool sweeping = false;
  /// Since when the database has answered every sweep in time; unset
  /// while blind.
  std::optional<std::chrono::steady_clock::time_point> watching_since;
  std::chrono::steady_clock::time_point last_answer;
};

/// The longest a sweep may take, or be apart from the previous answer,
/// before the reaper treats the database as having been unusable.
std::chrono::milliseconds reaper_max_gap(const reaper_config& cfg);

reaper_actor::behavior_type
reaper_actor_impl(reaper_actor::stateful_pointer<reaper_state> self,
                  reaper_config cfg, persistence_actor store);

} // namespace leasehold
