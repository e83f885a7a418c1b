#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

/// Plain data exchanged between leasehold's actors about jobs.
namespace leasehold {

/// A job this node has just claimed: the lease is (id, attempt) under our
/// worker id. Payload stays JSON text until the executor parses it.
struct claimed_job {
  int64_t id = 0;
  std::string type;
  std::string queue;
  std::string payload;
  int32_t attempt = 0;
  int32_t max_attempts = 0;
  std::string correlation_id;
  std::string trace_id;
  int32_t priority = 0;
  /// How long it waited in the node's prefetch buffer before its handler
  /// started: the attempt's run row starts that much after the claim.
  int64_t buffered_ms = 0;
  /// The node's count of claimed jobs when this one arrived. A job given
  /// back unstarted and claimed again has the same (id, attempt), so a
  /// renewal's verdict is only applied to leases claimed before the lease
  /// list it checked was taken.
  int64_t claim_seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claimed_job& x) {
  return f(caf::meta::type_name("claimed_job"), x.id, x.type, x.queue,
           x.payload, x.attempt, x.max_attempts, x.correlation_id,
           x.trace_id, x.priority, x.buffered_ms, x.claim_seq);
}

/// A claimed job as the supervisor and its executor share it: claimed once,
/// never copied. It stays on this node (never serialized).
using shared_job = std::shared_ptr<const claimed_job>;

/// Identifies one lease: a job and the attempt that holds it.
struct lease_ref {
  int64_t job_id = 0;
  int32_t attempt = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_ref& x) {
  return f(caf::meta::type_name("lease_ref"), x.job_id, x.attempt);
}

/// Asks for up to `limit` due jobs of one queue, of the types this node has
/// handlers for (a job of another type stays queued for a node that has).
struct claim_request {
  std::string queue;
  int32_t limit = 0;
  std::vector<std::string> types;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claim_request& x) {
  return f(caf::meta::type_name("claim_request"), x.queue, x.limit, x.types);
}

/// Queues with a state of their own (migrations 021, 022): paused ones are
/// not claimed from; limited ones are claimed from again soon after a claim
/// the limit cut short, so a place freed on any node is taken at once.
struct queue_states {
  std::vector<std::string> paused;
  std::vector<std::string> limited;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_states& x) {
  return f(caf::meta::type_name("queue_states"), x.paused, x.limited);
}

/// A running attempt's latest progress: a number of the handler's choosing
/// (a percentage, rows done) and a short message.
struct progress_report {
  lease_ref lease;
  double value = 0;
  std::string message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, progress_report& x) {
  return f(caf::meta::type_name("progress_report"), x.lease, x.value, x.message);
}

/// The answer to a renewal: leases not renewed, and whether this node's
/// instance row is still its own.
struct renew_reply {
  std::vector<lease_ref> lost;
  bool instance_lost = false;
  /// Jobs held under this worker id that no attempt ran for, given back.
  std::vector<int64_t> abandoned;
  /// Progress reports the ownership guard refused (the attempt's lease is
  /// gone) or that found the job's row locked by another session.
  std::vector<lease_ref> progress_refused;
  /// An operator asked this instance to drain (migration 027).
  bool drain = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, renew_reply& x) {
  return f(caf::meta::type_name("renew_reply"), x.lost, x.instance_lost,
           x.abandoned, x.progress_refused, x.drain);
}

/// Asks the store to rescue jobs whose lease expired.
/// Also marks silent worker instances STOPPED. The TTL, stale threshold and
/// stop timeout stand in for owners that recorded none of their own.
struct rescue_request {
  int64_t lease_ttl_ms = 0;
  int64_t retry_base_ms = 0;
  int64_t retry_cap_ms = 0;
  int64_t stale_after_ms = 0;
  int64_t stop_timeout_ms = 0;
  /// How long the reaper has seen the database answer without a break:
  /// silence of others only counts within this window (fair liveness).
  int64_t observed_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rescue_request& x) {
  return f(caf::meta::type_name("rescue_request"), x.lease_ttl_ms,
           x.retry_base_ms, x.retry_cap_ms, x.stale_after_ms,
           x.stop_timeout_ms, x.observed_ms);
}

/// A node's own terms, recorded with its registration and every heartbeat:
/// other nodes judge its leases and its registration by these, not by their
/// own settings.
struct instance_terms {
  int64_t lease_ttl_ms = 30000;
  int64_t stale_after_ms = 30000;
  int64_t stop_timeout_ms = 60000;
};

/// Thresholds the health figures are computed with.
struct observe_thresholds {
  int64_t lease_ttl_ms = 30000;
  int64_t stale_after_ms = 30000;
  int64_t stop_timeout_ms = 60000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, observe_thresholds& x) {
  return f(caf::meta::type_name("observe_thresholds"), x.lease_ttl_ms,
           x.stale_after_ms, x.stop_timeout_ms);
}

/// A read or admin request from the observer to the store. `what` is one of
/// health, dead_jobs, running, job, chain, workers, queue_depth, enqueue, retry,
/// cancel, runs, run, run_create, run_retry; the reply is JSON text ("null"
/// when the job or run does not exist).
struct observe_request {
  std::string what;
  int64_t id = 0;
  int32_t limit = 50;
  int32_t since_hours = 24;
  std::string type;           // "" = any
  std::string correlation_id; // "" = any
  std::string body;           // enqueue, run_create: the object as JSON
  std::string key;            // run_retry: one partition ("" = all failed)
  observe_thresholds thresholds;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, observe_request& x) {
  return f(caf::meta::type_name("observe_request"), x.what, x.id, x.limit,
           x.since_hours, x.type, x.correlation_id, x.body, x.key,
           x.thresholds);
}

/// What a rescue sweep did.
struct rescue_reply {
  std::vector<int64_t> jobs;            // requeued or failed (ttl_exceeded)
  std::vector<std::string> instances;   // marked STOPPED as presumed dead
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rescue_reply& x) {
  return f(caf::meta::type_name("rescue_reply"), x.jobs, x.instances);
}

/// A job a handler asked to enqueue; written only if its parent succeeds.
struct child_job {
  std::string type;
  std::string payload; // JSON text
  std::string queue;
  int32_t priority = 0;
  int32_t max_attempts = 0; // 0: the table's default
  /// A unique key (migration 017); "" for none. unique_while "" is active;
  /// unique_for_ms 0 is no window.
  std::string unique_key;
  std::string unique_while;
  int64_t unique_for_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_job& x) {
  return f(caf::meta::type_name("child_job"), x.type, x.payload, x.queue,
           x.priority, x.max_attempts, x.unique_key, x.unique_while,
           x.unique_for_ms);
}

/// What an attempt ended with, to be written under its lease.
struct job_outcome {
  /// snoozed: back to the queue after retry_delay_ms, no attempt used up.
  enum kind_t : int32_t { succeeded = 0, retry = 1, failed = 2, snoozed = 3 };
  lease_ref lease;
  int32_t kind = succeeded;
  std::string error;      // handler message; empty on success
  std::string error_code; // handler_error, precondition_failed, ...
  int64_t retry_delay_ms = 0;
  std::vector<child_job> children;
  /// The claimed job's buffered_ms: the run row's started_at is the
  /// handler's start, not the claim.
  int64_t buffered_ms = 0;
  /// The handler's output as bounded JSON text (output_text); "" for none.
  std::string output;
  /// Its last progress report not written by a heartbeat yet, as JSON text
  /// {"value", "message"}; "" for none.
  std::string progress;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_outcome& x) {
  return f(caf::meta::type_name("job_outcome"), x.lease, x.kind, x.error,
           x.error_code, x.retry_delay_ms, x.children, x.buffered_ms,
           x.output, x.progress);
}

/// How the persistence actor answered a completion.
enum class write_result : int32_t {
  written = 0,
  fenced_out = 1,          // zero rows matched the ownership guard
  policy_violation = 2,    // written, but the trace-id policy was violated
  rejected_by_policy = 3,  // strict trace policy turned success into failure
};

/// What the writer did with an attempt's outcome; the supervisor counts and
/// logs it (the error is the handler's, for the log line).
struct written_outcome {
  int32_t result = 0; // write_result
  int32_t kind = 0;   // job_outcome::kind_t
  std::string error;
  /// The attempt ran past its timeout (set by the executor).
  bool timed_out = false;
  /// Its handler has not returned yet: the executor's slot stays taken until
  /// the executor exits, which it does once the handler returns.
  bool handler_running = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, written_outcome& x) {
  return f(caf::meta::type_name("written_outcome"), x.result, x.kind, x.error,
           x.timed_out, x.handler_running);
}

/// Live counters of one node, as seen by its supervisor.
struct node_stats {
  int64_t in_flight = 0;
  int64_t claimed = 0;
  std::map<std::string, int64_t> outcomes;           // succeeded, retry, ...
  std::map<std::string, int64_t> supervised_failures; // exit reason -> count
  int64_t policy_violations = 0;
  int64_t restarts = 0;
  /// Executor actors started; each runs attempts until one fails, so this
  /// grows with failures and concurrency, not with jobs.
  int64_t executors_spawned = 0;
  /// The worker id this node claims and writes under now, and how often it
  /// registered again after others revoked its registration.
  std::string worker_id;
  int64_t reregistrations = 0;
  /// Jobs claimed ahead and not started yet, and how many were given back
  /// unstarted (stop, overdue) or lost before they started.
  int64_t prefetched = 0;
  int64_t prefetch_given_back = 0;
  int64_t prefetch_lost = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_stats& x) {
  return f(caf::meta::type_name("node_stats"), x.in_flight, x.claimed,
           x.outcomes, x.supervised_failures, x.policy_violations,
           x.restarts, x.executors_spawned, x.worker_id, x.reregistrations,
           x.prefetched, x.prefetch_given_back, x.prefetch_lost);
}

} // namespace leasehold

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(leasehold::shared_job)
