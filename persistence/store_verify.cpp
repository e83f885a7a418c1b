// The store's invariant checks: `leasehold verify`.
#include "persistence/verify.hpp"

#include <map>

#include "persistence/store.hpp"
#include "persistence/store_internal.hpp"
#include "persistence/sql_statements.hpp"

namespace leasehold {

const std::vector<invariant>& invariants() {
  static const std::vector<invariant> all = {
    {"stuck_jobs", "no job running with a heartbeat older than its owner's lease TTL plus grace"},
    {"running_owner_not_active",
     "every running job's owner is registered and not STOPPED (beyond grace)"},
    {"one_active_singleton", "at most one STARTING/RUNNING instance per singleton type"},
    {"one_success_per_job", "no job with more than one successful attempt"},
    {"nothing_after_success", "no attempt, and no live job row, after a successful attempt"},
    {"attempts_match_runs",
     "a terminal job has one run row per attempt, numbered 1..attempts"},
    {"trace_id_format", "every success's trace_id is {worker_id}-{job_id}-{attempt}"},
    {"worker_id_format", "every success's worker_id is {base}-{uuid v4}"},
    {"traced_successes", "successes of jobs created after the trace cutoff carry a trace_id"},
    {"success_by_registered_worker", "every success was written by a registered worker"},
    {"no_success_after_revocation",
     "no success written by a worker after its registration was revoked"},
    {"run_counts",
     "a run's counts add up to its partitions, and it is completed exactly when none is left"},
    {"on_complete_once", "a completed run enqueued its on-complete job exactly once"},
    {"queue_concurrency",
     "no queue with a concurrency limit ran more attempts at once than its limit"},
    {"key_concurrency",
     "no concurrency key ran more attempts at once than its queue's per-key limit"},
    {"queue_rate",
     "no rate-limited queue started more jobs in a period than its rate and burst allow"},
  };
  return all;
}

std::vector<invariant_result> store::verify(const verify_options& o) {
  static const std::string_view checks[] = {sql::verify_leases, sql::verify_attempts,
                                            sql::verify_successes, sql::verify_runs,
                                            sql::verify_limits};
  std::map<std::string, invariant_result> found;
  translate_errors("verify", [&] {
    // One snapshot for every check, so that they judge the same data.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{impl_->conn};
    // The attempts check groups every run row by job: let it hash in memory.
    tx.exec("SET LOCAL work_mem = '256MB'");
    // Compiling these one-off plans cost more than it saved (1s of 8).
    tx.exec("SET LOCAL jit = off");
    for (auto text : checks) {
      // Unprepared: each is planned once, for the values given.
      for (const auto& row : tx.exec_params(std::string{text}, o.since, o.grace_ms,
                                            o.trace_cutoff, o.default_lease_ttl_ms)) {
        auto& r = found[row[0].as<std::string>()];
        ++r.violations;
        if (static_cast<int64_t>(r.rows.size()) < o.limit)
          r.rows.push_back(row[1].as<std::string>());
      }
    }
    return 0;
  });
  std::vector<invariant_result> out;
  for (const auto& inv : invariants()) {
    auto r = std::move(found[inv.name]);
    r.name = inv.name;
    r.description = inv.description;
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace leasehold
