#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/cluster_protocol.hpp"
#include "messages/job_types.hpp"
#include "messages/retention.hpp"

/// The typed interfaces of leasehold's actors: who may say what to whom.
namespace leasehold {

/// The only actor that talks to Postgres.
using persistence_actor = caf::typed_actor<
  // Claim up to `limit` due jobs of a queue for this node.
  caf::replies_to<claim_atom, claim_request>::with<std::vector<claimed_job>>,
  // Renew this instance and its leases, and write the handlers' progress
  // reports under the same guard; replies with what was lost or refused.
  caf::replies_to<renew_atom, std::vector<lease_ref>,
                  std::vector<progress_report>>::with<renew_reply>,
  // The queues paused, and those with a concurrency limit.
  caf::replies_to<queues_atom>::with<queue_states>,
  // Move this instance to a status (from one of the given ones).
  caf::replies_to<status_atom, std::string, std::vector<std::string>>::with<bool>,
  // Give leases back to the queue (fenced); replies with released ids.
  caf::replies_to<release_atom, std::vector<lease_ref>, std::string>::with<
    std::vector<int64_t>>,
  // Give back jobs claimed ahead and never started: the claim is undone,
  // its attempt not consumed, no run row (fenced); replies with their ids.
  caf::replies_to<unclaim_atom, std::vector<lease_ref>>::with<std::vector<int64_t>>,
  // Observer reads and admin writes; replies with JSON text.
  caf::replies_to<observe_atom, observe_request>::with<std::string>,
  // Requeue or fail jobs whose lease expired; replies with their ids.
  caf::replies_to<rescue_atom, rescue_request>::with<rescue_reply>,
  // Enqueue the ticks of due schedules (a tick later than the given ms is
  // missed); replies with how many tick jobs were created.
  caf::replies_to<schedule_atom, int64_t>::with<int64_t>,
  // One retention pass (dry: count only); elected = false when another
  // node is pruning.
  caf::replies_to<prune_atom, retention_policy, bool>::with<prune_report>,
  // Write an attempt's outcome under its lease (batched with others).
  // An executor delegates this to it, so the answer goes straight to the
  // supervisor that asked the executor to run the attempt.
  caf::replies_to<complete_atom, job_outcome>::with<written_outcome>,
  // Internal: flush batched completions; retry the connection.
  caf::reacts_to<flush_atom>, caf::reacts_to<connect_atom>,
  // Send NOTIFY wakeups (queue name) to this actor from now on.
  caf::reacts_to<listen_atom, caf::actor>,
  // Register this node's instance (its configured worker id) as STARTING,
  // then RUNNING: a node whose registration was revoked starts over under a
  // fresh worker id. Fails with the singleton conflict, if any.
  caf::replies_to<register_atom>::with<bool>>;

/// Claims jobs up to the node's free capacity, per queue.
using lease_actor = caf::typed_actor<
  caf::reacts_to<tick_atom>,                    // poll fallback
  caf::reacts_to<wake_atom, std::string>,       // NOTIFY for a queue
  caf::reacts_to<slot_atom, std::string, int32_t>, // slots of a queue freed
  // How many jobs of a queue to claim ahead changed by this much.
  caf::reacts_to<prefetch_atom, std::string, int32_t>,
  // A queue was paused or resumed (NOTIFY): read the paused queues again.
  caf::reacts_to<control_atom>,
  // To itself: claim from this limited queue again.
  caf::reacts_to<limited_atom, std::string>,
  caf::reacts_to<stop_atom>>;                   // claim nothing more

/// Renews every in-flight lease once per tick, and at once when told (a
/// cancel or a drain was recorded for this node: see it now).
using heartbeat_actor = caf::typed_actor<caf::reacts_to<tick_atom>,
                                         caf::reacts_to<renew_atom>>;

/// Regularly rescues jobs whose lease expired (their owner died or hung).
using reaper_actor = caf::typed_actor<caf::reacts_to<tick_atom>>;

/// Regularly enqueues the ticks of due schedules.
using scheduler_actor = caf::typed_actor<caf::reacts_to<tick_atom>>;

/// Regularly deletes expired history, when elected (migration 025).
using pruner_actor = caf::typed_actor<caf::reacts_to<tick_atom>>;

/// Runs attempts, one at a time, and writes each outcome under its lease.
using executor_actor = caf::typed_actor<
  // Run this attempt (the executor is idle). The writer answers, once the
  // outcome is written under the lease: one message per attempt, and the
  // executor is not woken again for it.
  caf::replies_to<run_atom, shared_job>::with<written_outcome>,
  // The handler finished: kind, error text, error code, children (as outcome)
  caf::reacts_to<done_atom, job_outcome>,
  // This attempt's lease is gone: if it is still running, exit ownership_lost.
  caf::reacts_to<lost_atom, lease_ref>,
  // The stop's grace period is over: if it still runs, exit stopping_timeout.
  caf::reacts_to<deadline_atom, lease_ref>,
  // To itself: a timeout timer. If the running attempt is past its
  // deadline, it ends as a timeout failure and its handler is told to cancel.
  caf::reacts_to<timeout_atom>>;

/// Answers operators: health with alerts, Prometheus metrics, and reads
/// and admin writes passed to its own persistence actor (JSON text).
using observer_actor = caf::typed_actor<
  caf::replies_to<health_atom>::with<std::string>,
  caf::replies_to<metrics_atom>::with<std::string>,
  caf::replies_to<observe_atom, observe_request>::with<std::string>>;

/// Spawns and watches every other actor; counts failures by exit reason.
using supervisor_actor = caf::typed_actor<
  caf::reacts_to<spawn_atom, std::vector<claimed_job>>,
  caf::replies_to<leases_atom>::with<std::vector<lease_ref>>,
  caf::reacts_to<lost_atom, std::vector<lease_ref>>,
  // This node's instance row is no longer its own: give up and exit.
  caf::reacts_to<orphan_atom>,
  caf::replies_to<stats_atom>::with<node_stats>,
  // The current persistence, lease, heartbeat and reaper actors.
  caf::replies_to<core_atom>::with<std::vector<caf::actor>>,
  // Stop: no more claims; in-flight attempts get the grace period (or none
  // when `immediate`); replies when every executor has ended.
  caf::replies_to<stop_atom, bool>::with<bool>,
  caf::reacts_to<deadline_atom>, caf::reacts_to<restart_atom, std::string>,
  // To itself: hand the slots freed since the last time to the lease actor.
  caf::reacts_to<slot_atom>,
  // To itself, every prefetch horizon: size the prefetch buffers to the
  // start rate and give back jobs buffered too long.
  caf::reacts_to<prefetch_atom>,
  // From an executor: the handler of this attempt returned and its outcome
  // goes to the writer. The slot takes its next job now; the lease stays
  // held until the outcome is written.
  caf::reacts_to<ran_atom, lease_ref>,
  // The handler of an executor that ended while it ran has returned: the
  // slot it held is free.
  caf::reacts_to<done_atom, caf::actor_addr>,
  // From the lease actor: the queues paused now (all of them). Jobs of a
  // paused queue claimed ahead are given back, and none of them starts.
  caf::reacts_to<pause_atom, std::vector<std::string>>,
  // From the lease actor: these queues gained a limit; give back the jobs
  // of theirs claimed ahead (before the limit, they would start outside it).
  caf::reacts_to<limited_atom, std::vector<std::string>>,
  // The attempts running now, with their latest progress (cluster view).
  caf::replies_to<inflight_atom>::with<std::vector<cluster_attempt_v1>>,
  // From a peer, through the cluster face: look at Postgres now ("leases":
  // renew at once; "queues": read the paused queues).
  caf::reacts_to<nudge_atom, std::string>>;

/// This node's links to its peers (actors/cluster_actor.hpp).
using cluster_actor = caf::typed_actor<
  // Every membership interval: read the live peers, link to new ones.
  caf::reacts_to<tick_atom>,
  // The node's own published face and where it listens: its view joins
  // the peers' views. Membership is read from then on.
  caf::reacts_to<face_atom, cluster_face_v1, std::string>,
  // Every node's view, gathered within a bounded time (JSON).
  caf::replies_to<cluster_atom>::with<std::string>,
  // The state of each link.
  caf::replies_to<links_atom>::with<std::vector<cluster_link_v1>>,
  // Tell the node with this worker id ("": every node) to look at Postgres
  // now (a topic of nudge_atom), if a link to it is up; Postgres is the
  // fallback. Replies whether any node was told.
  caf::replies_to<notify_atom, std::string, std::string>::with<bool>,
  // Internal: try the link to a peer again (worker id, link generation).
  caf::reacts_to<retry_atom, std::string, uint64_t>>;

} // namespace leasehold
