#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <caf/actor_addr.hpp>

#include "messages/protocols.hpp"
#include "runtime/input_limits.hpp"

namespace leasehold {

class handler_registry;
class handler_pool;
class execution_ledger;
class progress_board;
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
  /// How long an attempt of a blocking handler registered without its own
  /// timeout may run (30m).
  std::chrono::milliseconds attempt_timeout{30 * 60 * 1000};
  std::shared_ptr<const handler_registry> handlers;
  std::shared_ptr<handler_pool> pool;
  /// Where handler durations are recorded (may be null).
  std::shared_ptr<node_metrics> metrics;
  /// Where handlers' starts and ends are appended (may be null).
  std::shared_ptr<execution_ledger> ledger;
  /// Bounds on the child jobs handlers enqueue and on their outputs.
  input_limits limits;
  /// Where handlers' progress reports wait for the heartbeat (may be null).
  std::shared_ptr<progress_board> progress;
};

/// Whether an executor's blocking handler still runs on the pool, shared by
/// the executor, its pool task and the supervisor. An executor can end while
/// its handler runs (ownership lost, stop deadline, outcome unwritten) and a
/// handler may ignore its cancel flag: its thread stays busy, so the
/// supervisor keeps that slot taken until the handler returns.
class handler_watch {
public:
  explicit handler_watch(caf::actor_addr supervisor)
    : supervisor_(std::move(supervisor)) {}
  /// The executor hands its handler to the pool.
  void started();
  /// The handler returned; if the supervisor waits for that (its executor
  /// ended meanwhile), it is told with (done_atom, executor).
  void returned(const caf::actor_addr& executor);
  /// The executor ended: true when its handler still runs, in which case
  /// returned() tells the supervisor once it has.
  bool outlived();

private:
  std::mutex mtx_;
  bool running_ = false;
  bool awaited_ = false;
  caf::actor_addr supervisor_;
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
//   running --attempt timeout--> writing a `timeout` failure, the handler
//   told to cancel; the answer says whether the handler still runs. If it
//   does, the executor takes no attempt and exits once the handler
//   returns, so the supervisor frees the slot only then.
struct executor_state {
  static inline const char* name = "executor";
  /// The attempt under way or being written; null before the first.
  shared_job job;
  /// Who asked for it (weakly: the supervisor holds this actor): told when
  /// its handler returns.
  caf::actor_addr requester;
  /// Its outcome is with the writer.
  bool writing = false;
  /// Its handler runs on the pool (a blocking handler that has not returned).
  bool handler_busy = false;
  /// When it times out, and after how long (for its error text).
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds limit{0};
  /// It ran past its timeout, and whether that failure is written yet.
  bool timed_out = false;
  bool timeout_written = false;
  /// Pending timeout timers. CAF cannot cancel a delayed message, so one
  /// per attempt would pile up (30m each); a timer is armed only when none
  /// fires by the attempt's deadline, and one that fires early re-arms.
  std::multiset<std::chrono::steady_clock::time_point> timers;
};

executor_actor::behavior_type
executor_actor_impl(executor_actor::stateful_pointer<executor_state> self,
                    std::shared_ptr<const executor_config> cfg,
                    persistence_actor store, std::shared_ptr<handler_watch> watch);

} // namespace leasehold
