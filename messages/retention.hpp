#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

/// What retention keeps and what a pruning pass did (migration 025).
namespace leasehold {

/// How long each kind of history is kept, in ms (0: forever), and how a
/// pass deletes what expired.
struct retention_policy {
  /// Succeeded jobs (their job_runs rows), after they ended (7 days).
  int64_t succeeded_ms = 0;
  /// Dead (failed or cancelled) jobs, after they ended (30 days).
  int64_t dead_ms = 0;
  /// Runs with all their partitions, after the run completed (30 days).
  int64_t runs_ms = 0;
  /// STOPPED worker instances, after they stopped (7 days).
  int64_t instances_ms = 0;
  /// Trace-policy violations, after they were recorded (30 days).
  int64_t violations_ms = 0;
  /// Rows examined per batch, each batch its own transaction (1000).
  int32_t batch = 1000;
  /// A pass stops after this long and reports more to do (0: no limit).
  int64_t budget_ms = 0;
  /// Pause after each batch that found work, in ms (0: none): bounds the
  /// share of the database's CPU and I/O a pass takes from the jobs.
  int64_t pause_ms = 0;
  /// The share of the time a pass may spend in batches, in percent (100:
  /// no limit). After a batch that took t, it rests at least
  /// t * (100 - share) / share: a database slowed by load makes batches
  /// slower, and the pruner steps back further (a sleep coefficient).
  int32_t share_percent = 100;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retention_policy& x) {
  return f(caf::meta::type_name("retention_policy"), x.succeeded_ms, x.dead_ms,
           x.runs_ms, x.instances_ms, x.violations_ms, x.batch, x.budget_ms,
           x.pause_ms, x.share_percent);
}

/// What one pruning pass deleted (or, dry, would delete).
struct prune_report {
  /// False when another session held the pruning lock: nothing was done.
  bool elected = false;
  /// The pass stopped at its budget with expired history left.
  bool more = false;
  int64_t succeeded = 0;  // succeeded jobs (with all their attempts' rows)
  int64_t dead = 0;       // failed or cancelled jobs
  int64_t runs = 0;       // runs (their partitions are counted above)
  int64_t attempts = 0;   // job_runs rows, of all those jobs
  int64_t instances = 0;  // worker_instances rows
  int64_t violations = 0; // policy_violations rows
  int64_t unique_keys = 0; // unique keys whose window ended
  int64_t batches = 0;    // transactions
  int64_t took_ms = 0;

  /// Adds another pass's counts (elected and more are the other's).
  prune_report& operator+=(const prune_report& o) {
    elected = elected || o.elected;
    more = o.more;
    succeeded += o.succeeded;
    dead += o.dead;
    runs += o.runs;
    attempts += o.attempts;
    instances += o.instances;
    violations += o.violations;
    unique_keys += o.unique_keys;
    batches += o.batches;
    took_ms += o.took_ms;
    return *this;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prune_report& x) {
  return f(caf::meta::type_name("prune_report"), x.elected, x.more, x.succeeded,
           x.dead, x.runs, x.attempts, x.instances, x.violations, x.unique_keys, x.batches,
           x.took_ms);
}

} // namespace leasehold
