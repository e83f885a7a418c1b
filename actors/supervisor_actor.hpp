#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/executor_actor.hpp"
#include "actors/heartbeat_actor.hpp"
#include "actors/lease_actor.hpp"
#include "actors/prefetch_buffer.hpp"
#include "actors/reaper_actor.hpp"
#include "actors/scheduler_actor.hpp"
#include "messages/protocols.hpp"
#include "persistence/persistence_actor.hpp"

namespace leasehold {

/// Everything a node's supervisor needs to build its children.
struct supervisor_config {
  persistence_config persistence;
  /// The completion writer's linger (persistence_config::completion_linger);
  /// the claiming connection has none.
  std::chrono::milliseconds completion_linger{0};
  lease_config lease;
  heartbeat_config heartbeat;
  reaper_config reaper;
  scheduler_config scheduler;
  executor_config executor;
  /// How far to claim ahead of the handlers (lease.queues holds each
  /// queue's concurrency).
  prefetch_settings prefetch;
  /// Grace period for in-flight attempts on a graceful stop (60s).
  std::chrono::milliseconds stop_timeout{60000};
  /// First restart delay of a crashed actor (100ms); doubles, up to 10s.
  std::chrono::milliseconds restart_backoff{100};
  /// Prefix of a fresh worker id, when a revoked non-singleton node
  /// registers again.
  std::string worker_base = "leasehold";
};

/// Spawns and monitors the persistence, lease and heartbeat actors and the
/// executors, one per running attempt (reused once an outcome is written).
/// Counts every abnormal exit by reason (ownership_lost, stopping_timeout,
/// ...) and restarts crashed core actors with backoff.
//
//   running --stop--> stopping: instance STOPPING, no claims, executors
//     get the grace period; at the deadline they end with stopping_timeout
//     --last executor gone--> their jobs released, instance STOPPED, quit
//   running --orphan (instance row no longer ours)--> every executor ends
//     with ownership_lost, nothing is written; then a singleton quits with
//     instance_lost, any other node registers again under a fresh worker
//     id (reregistering) and goes on running
struct supervisor_state {
  static inline const char* name = "supervisor";
  struct running_job {
    executor_actor executor;
    shared_job job;
    /// Its handler returned and its slot went to the next job; only the
    /// outcome's write is pending.
    bool slot_freed = false;
    /// When its handler was handed the job (the cluster view's age).
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    lease_ref lease() const { return {job->id, job->attempt}; }
  };
  /// Busy executors, keyed by executor: a node may hold a stale and a new
  /// attempt of the same job at once, and each must end and be counted on
  /// its own.
  std::unordered_map<caf::actor_addr, running_job> jobs;
  /// Executors whose last outcome is written, waiting for an attempt.
  std::vector<executor_actor> idle_executors;
  /// Executors whose attempt timed out while its handler still runs, and the
  /// queue whose slot each holds until it exits (once the handler returns).
  std::unordered_map<caf::actor_addr, std::pair<executor_actor, std::string>>
    draining;
  /// Each executor's handler watch, by executor.
  std::unordered_map<caf::actor_addr, std::shared_ptr<handler_watch>> watches;
  /// Executors that ended while their handler ran on, and the queue whose
  /// slot each handler holds until it returns.
  std::unordered_map<caf::actor_addr, std::string> held_by_handler;
  persistence_actor store;
  /// A second connection for completions only, so claims and completions
  /// run side by side in Postgres instead of queueing on one connection.
  persistence_actor writer;
  lease_actor lease;
  heartbeat_actor heartbeat;
  reaper_actor reaper;
  scheduler_actor scheduler;
  node_stats stats;
  /// The worker id claims and writes are made under; a fresh one after a
  /// revoked registration (non-singletons only).
  std::string worker_id;
  std::shared_ptr<const executor_config> executor_cfg;
  bool reregistering = false;   // revoked: ending attempts, registering anew
  int restart_streak = 0;
  bool restart_pending = false;
  bool stopping = false;
  bool finishing = false;       // final writes (release, STOPPED) under way
  bool instance_lost = false;   // orphaned: write nothing more at all
  std::vector<lease_ref> to_release; // attempts ended by stopping_timeout
  /// Held jobs (running or claimed ahead) freed per queue, not yet handed
  /// to the lease actor.
  std::map<std::string, int32_t> freed_slots;
  /// Jobs claimed ahead of the handlers, and the attempts running per queue.
  std::unique_ptr<prefetch_buffer> buffer;
  /// The leases of buffered jobs being given back: renewed until the
  /// answer, and a stop waits until none is left.
  std::vector<lease_ref> giving_back;
  /// Paused queues (told by the lease actor): none of their jobs starts.
  std::set<std::string> paused;
  /// Jobs claimed so far, and how many when the heartbeat last took the
  /// lease list: its verdict of lost leases applies to those only.
  int64_t claim_seq = 0;
  int64_t leases_taken_at_seq = 0;
  caf::typed_response_promise<bool> stopped;
};

supervisor_actor::behavior_type
supervisor_actor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                      supervisor_config cfg);

} // namespace leasehold
