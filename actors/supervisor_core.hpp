#pragma once

// Shared by the supervisor's two source files (supervisor_actor.cpp: the
// attempts and the stop; supervisor_core.cpp: the core actors and the
// registration). Not for use outside the supervisor.

#include <vector>

#include "actors/supervisor_actor.hpp"

namespace leasehold {
class progress_board;
}

namespace leasehold::supervisor_detail {

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

/// Spawns the persistence, writer, lease, heartbeat and reaper actors
/// under the current worker id.
void spawn_core(self_ptr self, const supervisor_config& cfg);
/// Every core actor, in one place: stopping, recognising and listing them
/// all read this.
std::vector<caf::actor> core_actors(const supervisor_state& st);
/// Ends an executor that runs no attempt: its exit is not a failure.
void end_idle_executor(self_ptr self, const executor_actor& exec,
                       const caf::error& reason);
/// Ends the core actors (and idle executors) without counting their exits.
void stop_core(self_ptr self, const caf::error& reason);
bool is_core(self_ptr self, const caf::actor_addr& addr);
/// A core actor failed: count it and restart the whole core with backoff.
void on_core_down(self_ptr self, const supervisor_config& cfg,
                  const caf::error& reason);
/// The registration was revoked: end every attempt, register anew.
void begin_reregistration(self_ptr self, const supervisor_config& cfg);
void reregister(self_ptr self, const supervisor_config& cfg);
/// Defined in supervisor_actor.cpp: quit once the last attempt is gone.
void finish_stop_if_idle(self_ptr self);
/// Defined in supervisor_actor.cpp: starts an executor on `job`.
void start_attempt(self_ptr self, shared_job job);
/// The attempts running now, oldest first, with their latest progress.
std::vector<cluster_attempt_v1> inflight_attempts(const supervisor_state& st,
                                                  progress_board* progress);

// Defined in supervisor_prefetch.cpp: the jobs claimed ahead.
/// A claim's batch goes to the buffer and starts as far as slots allow.
void accept_claimed(self_ptr self, std::vector<claimed_job>& batch);
/// An attempt of `queue` ended: its slot takes the next buffered job and
/// its lease is no longer held.
void free_slot(self_ptr self, const std::string& queue);
/// The handler of an attempt of `queue` returned: its slot takes the next
/// buffered job while the outcome is written.
void handler_slot_free(self_ptr self, const std::string& queue);
/// A job of `queue` whose slot was freed already is no longer held.
void release_held(self_ptr self, const std::string& queue, int32_t n = 1);
/// Gives every buffered job back (a stop).
void give_back_buffered(self_ptr self);

/// The queues paused now: gives back the buffered jobs of those newly
/// paused, and starts those of queues resumed.
void set_paused(self_ptr self, std::vector<std::string> paused);
/// Gives back the buffered jobs of queues that gained a limit.
void give_back_limited(self_ptr self, const std::vector<std::string>& queues);
/// Forgets every buffered job: the worker id they were claimed under was
/// revoked, so they are not ours to give back; reapers requeue them.
void forget_buffered(self_ptr self);
/// Drops the buffered leases among `lost`.
void drop_lost_buffered(self_ptr self, const std::vector<lease_ref>& lost);
/// Every prefetch horizon: resize the buffers, give back overdue jobs.
void prefetch_tick(self_ptr self, const supervisor_config& cfg);

} // namespace leasehold::supervisor_detail
