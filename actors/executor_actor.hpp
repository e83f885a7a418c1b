#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "messages/protocols.hpp"
#include "runtime/input_limits.hpp"

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
  /// Bounds on the child jobs handlers enqueue.
  input_limits limits;
};

/// Runs attempts one at a time and hands each outcome to the writer. It is
/// kept for the next attempt once an outcome is written (spawning an actor
/// per attempt cost a spawn, a teardown and a wake of CAF's clock thread per
/// job); any way an attempt fails ends the actor.
//
//   idle --run--> running --handler done--> writing (the run request is
//   delegated to the writer, which answers the supervisor) --next run--> ...
//   running/writing --lost / deadline for this attempt--> exits
//   ownership_lost / stopping_timeout; the cancel flag tells the handler.
//   A lost for an attempt being written is ignored: a renewal finds a job
//   gone when its completion deleted it first, so only a fenced-out write
//   proves the lease was lost, and the supervisor, which hears the writer's
//   answer, then ends the executor with ownership_lost.
struct executor_state {
  static inline const char* name = "executor";
  /// The attempt under way or being written; null before the first.
  shared_job job;
  /// Its outcome is with the writer.
  bool writing = false;
};

executor_actor::behavior_type
executor_actor_impl(executor_actor::stateful_pointer<executor_state> self,
                    std::shared_ptr<const executor_config> cfg,
                    persistence_actor store);

} // namespace leasehold
