#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "messages/protocols.hpp"

namespace leasehold {

class handler_registry;
class handler_pool;
struct node_metrics;

/// How failed attempts are retried.
struct retry_policy {
  /// Delay after the first failure (1s); doubles per attempt.
  std::chrono::milliseconds base{1000};
  /// Longest delay (1h).
  std::chrono::milliseconds cap{3600 * 1000};
  /// Delay before retrying attempt `attempt` (1-based), with up to 10%
  /// random jitter so that failures of a batch do not retry in lockstep.
  std::chrono::milliseconds delay_after(int32_t attempt) const;
};

/// What every executor of a node shares.
struct executor_config {
  std::string worker_id;
  retry_policy retry;
  std::shared_ptr<const handler_registry> handlers;
  std::shared_ptr<handler_pool> pool;
  /// Where handler durations are recorded (may be null).
  std::shared_ptr<node_metrics> metrics;
};

/// Runs attempts one at a time and writes each outcome under its lease. It
/// is kept for the next attempt once an outcome is written (spawning an
/// actor per attempt cost a spawn, a teardown and a wake of CAF's clock
/// thread per job); any way an attempt fails ends the actor.
//
//   idle --run--> running --handler done--> writing --written--> idle
//                                                   --fenced out--> exits ownership_lost
//   running/writing --lost / deadline for this attempt--> exits
//   ownership_lost / stopping_timeout; the cancel flag tells the handler.
//   A lost or deadline for an attempt already written is ignored. A lost
//   that comes while the outcome is being written waits for the write: a
//   renewal finds a job gone when its completion deleted it first, so only
//   a fenced-out write proves the lease was lost.
struct executor_state {
  static inline const char* name = "executor";
  /// The attempt under way; null while idle.
  std::shared_ptr<const claimed_job> job;
  /// Its outcome is on the way to the store.
  bool writing = false;
};

executor_actor::behavior_type
executor_actor_impl(executor_actor::stateful_pointer<executor_state> self,
                    std::shared_ptr<const executor_config> cfg,
                    persistence_actor store, supervisor_actor supervisor);

} // namespace leasehold
