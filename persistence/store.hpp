#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "messages/job_types.hpp"
#include "messages/retention.hpp"

/// Blocking access to leasehold's tables over one Postgres connection. Used
/// by the persistence actor and by CLI commands; the only code that includes
/// libpqxx. Every parameter is bound, never spliced into SQL text.
namespace leasehold {

/// Postgres could not be reached or the connection broke.
struct store_unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A statement failed (bad input, constraint, ...); the message is for humans.
struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A statement gave up waiting (lock_timeout, statement_timeout): another
/// session holds what it needs, or the server is slow. Worth trying again
/// later; nothing was written.
struct store_busy : store_error {
  using store_error::store_error;
};

/// A job to enqueue. Unset optionals take the table's defaults.
struct new_job {
  std::string type;
  std::string payload = "{}"; // JSON text
  std::optional<std::string> queue;
  std::optional<int32_t> priority;
  std::optional<int32_t> max_attempts;
  std::optional<std::string> run_at; // timestamptz text
  std::optional<std::string> correlation_id; // unset: known by job-<id>
  /// At most one job holds this key (migration 017): queued, active (the
  /// default) or any, optionally per window of unique_for_ms.
  std::optional<std::string> unique_key;
  std::optional<std::string> unique_while;
  std::optional<int64_t> unique_for_ms;
  /// Jobs of one key run at most the queue's per_key at a time (1 unless
  /// set; migration 023).
  std::optional<std::string> concurrency_key;
};

/// What an enqueue did: the new job's id, or the id of the job that holds
/// its unique key (duplicate).
struct enqueued {
  int64_t id = 0;
  bool duplicate = false;
};

/// The ids alone, in the same order.
inline std::vector<int64_t> ids_of(const std::vector<enqueued>& jobs) {
  std::vector<int64_t> ids;
  ids.reserve(jobs.size());
  for (const auto& j : jobs)
    ids.push_back(j.id);
  return ids;
}

/// Postgres rejected a value given by the caller (SQLSTATE class 22 or a
/// check constraint); the message is Postgres' own and safe to show.
struct store_invalid_input : store_error {
  using store_error::store_error;
};

/// A singleton type already has an active instance; the message names it.
struct singleton_conflict : store_error {
  using store_error::store_error;
};

/// A periodic job (migration 018; see runtime/cron.hpp for `cron`).
struct schedule_spec {
  std::string name;
  std::string cron;
  std::string tz = "UTC";
  std::string type;
  std::string payload = "{}"; // JSON text
  std::string queue = "default";
  int32_t priority = 0;
  int32_t max_attempts = 25;
  std::string catch_up = "one"; // none, one or all missed ticks after an outage
};

/// What one scheduler pass did.
struct schedule_pass {
  int64_t enqueued = 0;             // tick jobs created
  int64_t skipped = 0;              // missed ticks its policy left out
  std::vector<std::string> failed;  // schedules whose cron no longer parses
};

/// What a node registers about itself.
struct instance_info {
  std::string worker_id;
  std::string worker_type = "default";
  bool singleton = false;
  std::string hostname;
  int32_t pid = 0;
  std::string version;
  std::string metadata = "{}"; // JSON object text
  instance_terms terms;
};

/// The outcome of one completion, in the order they were given.
struct completion_result {
  int64_t job_id = 0;
  bool written = false;          // false: fenced out, ownership was lost
  bool policy_violation = false; // written, but the trace policy was broken
};

/// Which dead jobs to list.
struct dead_jobs_filter {
  int32_t limit = 50;
  int32_t since_hours = 24;
  std::optional<std::string> type;
  std::optional<std::string> correlation_id;
};

/// What an admin write found and did.
struct job_change {
  std::string previous_status;
  bool changed = false;
  /// The worker whose attempt a cancel ended ("" when none).
  std::string owner;
};

/// A run to create: its partitions become jobs of `type`.
struct run_spec {
  std::string type;
  std::optional<std::string> label;
  std::optional<std::string> on_complete_type;
  std::optional<int32_t> max_attempts;
  std::optional<std::string> correlation_id;
  struct partition {
    std::string key;
    std::string payload = "{}"; // JSON text
  };
  std::vector<partition> partitions;
};

/// Trace-id policy as applied at completion time.
struct trace_policy {
  std::string cutoff = "infinity"; // jobs created at/after must have trace_id
  bool strict = false;             // strict: fail the attempt, else just log
};

/// How a connection's prepared statements are planned.
enum class statement_plans {
  /// Postgres's default: a statement is planned at each execution for as
  /// long as its plan for the given values looks cheaper than a generic one.
  automatic,
  /// One generic plan per statement, made once. For the node's connections,
  /// which run the same claim and completion hundreds of times a second with
  /// values that never change the best plan: Postgres kept planning both at
  /// every execution, and one plan each saves ~8% of its CPU per job
  /// (benchmarks/RESULTS.md, section 3).
  generic,
};

/// How long a connection's statements may wait.
enum class wait_limits {
  /// Postgres's defaults: no limits (CLI commands, bulk loads, migrations).
  none,
  /// A node's connections: lock waits end after 2s and statements after
  /// 15s (store_busy), a transaction idle for 5s (a paused process) is
  /// ended, and TCP keepalives and a TCP user timeout find a dead peer
  /// in about 20s (also in the middle of a statement), so
  /// no renewal, claim or completion waits without bound behind another
  /// session's lock, a hung statement or a silent network.
  bounded,
};

struct verify_options;
struct invariant_result;

class store {
public:
  /// Connects; throws store_unavailable when Postgres cannot be reached.
  explicit store(const std::string& database_url,
                 statement_plans plans = statement_plans::automatic,
                 wait_limits limits = wait_limits::none);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Applies pending migrations under an advisory lock; returns how many.
  int migrate();

  /// Claims up to `limit` due jobs of `queue` whose type is one of `types`
  /// for `worker_id`, in priority, run_at, id order. After a full batch the
  /// next claim of the queue starts past its last job (job_claim.sql says
  /// why); a short batch or a cursor older than the max age starts from the
  /// head again, a short batch only while the head is cheap to walk
  /// (persistence/claim_cursor.hpp).
  std::vector<claimed_job> claim(const std::string& worker_id,
                                 const std::string& queue, int32_t limit,
                                 const std::vector<std::string>& types);

  /// How long a claim cursor is kept: the longest a job that sorts before
  /// it waits while the queue is busy. Tests shorten it.
  void set_claim_cursor_max_age(std::chrono::milliseconds age);

  /// Renews this instance's heartbeat (recording its terms), then its
  /// leases, each in its own statement, so a lease row locked by another
  /// session holds up neither the registration nor the other leases. Then
  /// gives back the jobs held under this worker id that are not among
  /// `leases` and were not renewed for the lease TTL (see
  /// lease_abandon_unknown.sql); their ids are in the reply's `abandoned`.
  /// Writes `progress` into the jobs' rows under the ownership guard of a
  /// completion (job_progress.sql): a report of an attempt that no longer
  /// holds its job is refused and named in the reply's `progress_refused`.
  renew_reply renew(const std::string& worker_id,
                    const std::vector<lease_ref>& leases,
                    const instance_terms& terms = {},
                    const std::vector<progress_report>& progress = {});

  /// Registers this node as STARTING in one transaction, after marking
  /// silent instances STOPPED. Throws singleton_conflict naming the active
  /// instance when a singleton type is taken; nothing is written then.
  void register_instance(const instance_info& me,
                         std::chrono::milliseconds stale_after,
                         std::chrono::milliseconds stop_timeout);

  /// Moves this instance to `to` if it is in one of `from`; false if not.
  bool set_instance_status(const std::string& worker_id, const std::string& to,
                           const std::vector<std::string>& from);

  /// Records where this instance's cluster face listens ("" clears it);
  /// false if the row is gone or STOPPED.
  bool set_instance_endpoint(const std::string& worker_id, const std::string& endpoint);

  /// Asks a live instance to drain; false if there is no such instance.
  bool request_drain(const std::string& worker_id);

  /// Gives leases back to the queue (fenced); outcome names why. Returns
  /// the released job ids.
  std::vector<int64_t> release(const std::string& worker_id,
                               const std::vector<lease_ref>& leases,
                               const std::string& outcome);

  /// Gives back jobs claimed ahead and never started (fenced): the claim is
  /// undone without consuming the attempt or writing a run row. Returns the
  /// job ids given back.
  std::vector<int64_t> unclaim(const std::string& worker_id,
                               const std::vector<lease_ref>& leases);

  /// Worker instances as a JSON array (active ones, or all).
  std::string instances_json(bool include_stopped);

  /// Types whose RUNNING instances disagree on version, as a JSON array.
  std::string version_drift_json();

  /// Writes a batch of outcomes (one transaction, one fenced statement per
  /// kind) and the children of those that succeeded.
  std::vector<completion_result>
  complete(const std::string& worker_id, const std::vector<job_outcome>& batch,
           const trace_policy& policy);

  /// Requeues (or fails with ttl_exceeded) running jobs whose heartbeat is
  /// older than the lease TTL, and marks silent instances STOPPED, in one
  /// transaction.
  rescue_reply rescue_expired(const rescue_request& req);

  /// Enqueues one job: its id, or its unique key's holder (a duplicate).
  enqueued enqueue_one(const new_job& job);
  /// enqueue_one's id alone.
  int64_t enqueue(const new_job& job) { return enqueue_one(job).id; }

  /// Enqueues all jobs in one transaction (all or nothing), in input order.
  std::vector<enqueued> enqueue_many(const std::vector<new_job>& jobs);

  /// Adds a schedule; its first tick is the first after now (the database's
  /// clock, in its zone). A bad cron, zone or catch-up, or a name taken,
  /// throws store_invalid_input.
  void add_schedule(const schedule_spec& s);
  /// False when there is no such schedule.
  bool remove_schedule(const std::string& name);
  /// Pauses, or resumes from the next tick after now (paused ticks are not
  /// owed); false when there is no such schedule.
  bool set_schedule_paused(const std::string& name, bool paused);
  /// Every schedule as a JSON array; "late" when due longer than late_after.
  std::string schedules_json(std::chrono::milliseconds late_after);
  /// One scheduler pass: takes the due schedules no other node holds,
  /// enqueues their ticks as their catch-up policy says (a tick later than
  /// on_time counts as missed) and moves each to its next tick, in one
  /// transaction.
  schedule_pass enqueue_due_schedules(std::chrono::milliseconds on_time);

  /// The job and its runs as JSON text, or nullopt if there is no such job.
  std::optional<std::string> job_json(int64_t id);

  /// The database part of /health as JSON (see observe_health.sql).
  std::string health_json(const observe_thresholds& t);
  std::string dead_jobs_json(const dead_jobs_filter& filter);
  /// Jobs held by nodes (running or claimed ahead), longest held first, with
  /// their attempt's progress; at most `limit`.
  std::string running_json(int32_t limit);
  /// Every job of a correlation id, in creation order, with its runs.
  std::string chain_json(const std::string& correlation_id);
  /// {"queue": {"queued": N, "running": M}, ...}
  std::string queue_depth_json();

  /// Pauses or resumes a queue (migration 021): once this returns, no claim
  /// of the queue commits until it is resumed. Returns its state as JSON.
  /// Throws store_invalid_input for a name check_name would refuse.
  std::string set_queue_paused(const std::string& queue, bool paused);
  /// Sets (a number) or removes (nullopt) a queue's cluster-wide
  /// concurrency limit (migration 022). Returns its state as JSON.
  std::string set_queue_concurrency(const std::string& queue, std::optional<int32_t> limit);
  /// Changes a queue's limits (migrations 022-024): `limits` a JSON object
  /// with the ones to change ("concurrency", "per_key", "rate": {"jobs",
  /// "period", "burst"}), null removing one. Returns them as JSON.
  std::string set_queue_limits(const std::string& queue, const std::string& limits);
  /// The queues paused, and those with a concurrency limit.
  queue_states queue_states_now();
  /// Each queue's state, depth, held jobs and lag (GET /queues).
  std::string queues_json();

  /// Creates a run and all its partitions in one transaction; returns the
  /// run id. A duplicate key throws store_invalid_input; nothing is written.
  int64_t create_run(const run_spec& spec);
  /// The run with derived counts and status (and its partitions), or
  /// nullopt if there is no such run.
  std::optional<std::string> run_json(int64_t id, bool with_partitions);
  /// The most recent runs with derived counts and status.
  std::string runs_json(int32_t limit);
  /// Queues again the run's failed partitions (all, or only `key`); returns
  /// the keys retried, or nullopt if there is no such run.
  std::optional<std::vector<std::string>>
  retry_run(int64_t id, const std::optional<std::string>& key);

  /// A dead job back to queued, once; nullopt if there is no such job.
  std::optional<job_change> retry_job(int64_t id);
  /// Cancels a queued or running job; nullopt if there is no such job.
  std::optional<job_change> cancel_job(int64_t id);

  /// Throws store_error "invalid --<what> ..." unless Postgres reads `text`
  /// as a timestamptz.
  void check_timestamp(const std::string& what, const std::string& text);

  /// One retention pass (migration 025, persistence/store_retention.cpp):
  /// when this connection wins the pruning lock, deletes expired history in
  /// batches of its own short transactions; else returns elected = false
  /// at once. Dry, the same pass runs in one transaction that is rolled
  /// back: it counts what would go and deletes nothing.
  prune_report prune(const retention_policy& policy, bool dry_run);

  /// Checks every invariant (persistence/verify.hpp) in one read-only
  /// snapshot; one result per invariant, violated or not.
  std::vector<invariant_result> verify(const verify_options& options);

  /// Runs a read-only query returning one text value (tests and tools).
  std::optional<std::string> query_value(const std::string& sql);

  /// Runs a statement with no result (tests and tools only).
  void execute(const std::string& sql);

private:
  /// Writes progress reports fenced; returns those refused.
  std::vector<lease_ref> write_progress(const std::string& worker_id,
                                        const std::vector<progress_report>& reports);

  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The URL with client-side TCP keepalives and a TCP user timeout (a silent
/// server is noticed in about 20s, idle or not), unless it sets them itself.
/// For a node's connections.
std::string with_keepalives(const std::string& url);

/// The URL with any password replaced by "***", safe to log.
std::string redact_database_url(const std::string& url);

} // namespace leasehold
