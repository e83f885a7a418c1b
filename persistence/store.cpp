#include "persistence/store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>
#include <regex>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "persistence/migrations.hpp"
#include "persistence/store_internal.hpp"
#include "persistence/sql_statements.hpp"
#include "runtime/defaults.hpp"

namespace leasehold {

namespace {

// Every node and CLI migrates under this lock, so concurrent starts apply
// each migration exactly once. The value is arbitrary but fixed forever.
constexpr int64_t migration_lock_key = 0x6c65617365686f6c; // "leasehol"

struct statement {
  const char* name;
  std::string_view text;
};

const statement prepared_statements[] = {
  {"job_claim", sql::job_claim},
  {"lease_renew", sql::lease_renew},
  {"job_progress", sql::job_progress},
  {"lease_abandon_unknown", sql::lease_abandon_unknown},
  {"job_complete_success", sql::job_complete_success},
  {"job_complete_failure", sql::job_complete_failure},
  {"job_insert_children", sql::job_insert_children},
  {"job_insert", sql::job_insert},
  {"job_reserve_ids", sql::job_reserve_ids},
  {"job_get", sql::job_get},
  {"job_rescue", sql::job_rescue},
  {"job_release", sql::job_release},
  {"job_unclaim", sql::job_unclaim},
  {"job_retry", sql::job_retry},
  {"run_lock", sql::run_lock},
  {"run_lock_by_id", sql::run_lock_by_id},
  {"run_complete_check", sql::run_complete_check},
  {"run_insert", sql::run_insert},
  {"run_insert_partitions", sql::run_insert_partitions},
  {"run_retry", sql::run_retry},
  {"run_get", sql::run_get},
  {"run_list", sql::run_list},
  {"job_cancel", sql::job_cancel},
  {"observe_health", sql::observe_health},
  {"observe_dead_jobs", sql::observe_dead_jobs},
  {"observe_running", sql::observe_running},
  {"observe_chain", sql::observe_chain},
  {"observe_queue_depth", sql::observe_queue_depth},
  {"observe_queues", sql::observe_queues},
  {"queue_set_paused", sql::queue_set_paused},
  {"queue_paused_list", sql::queue_paused_list},
  {"queue_set_limits", sql::queue_set_limits},
  {"instance_expire_stale", sql::instance_expire_stale},
  {"instance_register", sql::instance_register},
  {"instance_active_holder", sql::instance_active_holder},
  {"instance_set_status", sql::instance_set_status},
  {"instance_set_endpoint", sql::instance_set_endpoint},
  {"instance_request_drain", sql::instance_request_drain},
  {"instance_heartbeat", sql::instance_heartbeat},
  {"instance_list", sql::instance_list},
  {"instance_version_drift", sql::instance_version_drift},
  {"schedule_clock", sql::schedule_clock},
  {"schedule_insert", sql::schedule_insert},
  {"schedule_due", sql::schedule_due},
  {"schedule_enqueue_ticks", sql::schedule_enqueue_ticks},
  {"schedule_advance", sql::schedule_advance},
  {"schedule_list", sql::schedule_list},
  {"retention_cutoffs", sql::retention_cutoffs},
  {"retention_succeeded_batch", sql::retention_succeeded_batch},
  {"retention_dead_batch", sql::retention_dead_batch},
  {"retention_runs_batch", sql::retention_runs_batch},
  {"retention_prune_chains", sql::retention_prune_chains},
  {"retention_instances", sql::retention_instances},
  {"retention_violations", sql::retention_violations},
  {"retention_unique_keys", sql::retention_unique_keys},
};

} // namespace

// The URL with client-side TCP keepalives and a TCP user timeout added
// (each unless it sets its own), so a node notices a server that went silent
// (a partition, a frozen host) in about 20s instead of waiting on the socket
// for the kernel's limits. Keepalives cover an idle connection (else two
// hours); the user timeout covers one with a statement sent into the silence,
// which keepalives never probe (else ~15 minutes of retransmissions, and
// after a heal up to two minutes more until the next one).
std::string with_keepalives(const std::string& url) {
  std::vector<const char*> params;
  if (url.find("keepalives") == std::string::npos)
    params = {"keepalives=1", "keepalives_idle=10", "keepalives_interval=5",
              "keepalives_count=2"};
  if (url.find("tcp_user_timeout") == std::string::npos)
    params.push_back("tcp_user_timeout=20000");
  const bool uri = url.rfind("postgres", 0) == 0 && url.find("://") != std::string::npos;
  std::string out = url;
  for (const char* p : params) {
    if (uri)
      out += (out.find('?') == std::string::npos ? '?' : '&');
    else
      out += ' ';
    out += p;
  }
  return out;
}

store::impl::impl(const std::string& url, statement_plans plans, wait_limits limits)
    : conn(limits == wait_limits::bounded ? with_keepalives(url) : url) {
    if (plans == statement_plans::generic)
      pqxx::nontransaction{conn}.exec("SET plan_cache_mode = force_generic_plan");
    if (limits == wait_limits::bounded)
      // The server side too: a node that vanished has its session (and any
      // lock it held) ended in about 20s. A node's transactions never pause
      // between statements, so one idle for 5s belongs to a paused process:
      // ending it frees the rows it held for everyone else.
      pqxx::nontransaction{conn}.exec(
        "SET lock_timeout = '2s'; SET statement_timeout = '15s';"
        " SET idle_in_transaction_session_timeout = '5s';"
        " SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5;"
        " SET tcp_keepalives_count = 2; SET tcp_user_timeout = 20000");
    for (const auto& s : prepared_statements)
      conn.prepare(s.name, std::string{s.text});
  }

store::store(const std::string& database_url, statement_plans plans,
             wait_limits limits) {
  // A down server must fail fast rather than hang the caller.
  setenv("PGCONNECT_TIMEOUT", "5", 0);
  translate_errors("connect", [&] {
    impl_ = std::make_unique<impl>(database_url, plans, limits);
    return 0;
  });
}

store::~store() = default;

int store::migrate() {
  return translate_errors("migrate", [&] {
    pqxx::work tx{impl_->conn};
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key);
    tx.exec("CREATE SCHEMA IF NOT EXISTS leasehold");
    tx.exec("CREATE TABLE IF NOT EXISTS leasehold.schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())");
    std::map<int, bool> applied;
    for (const auto& row :
         tx.exec("SELECT version FROM leasehold.schema_migrations"))
      applied[row[0].as<int>()] = true;
    int count = 0;
    for (const auto& m : all_migrations()) {
      if (applied.count(m.version) != 0)
        continue;
      tx.exec(std::string{m.text});
      tx.exec_params("INSERT INTO leasehold.schema_migrations (version, name)"
                     " VALUES ($1, $2)",
                     m.version, std::string{m.name});
      ++count;
    }
    tx.commit();
    return count;
  });
}

std::vector<claimed_job> store::claim(const std::string& worker_id,
                                      const std::string& queue, int32_t limit,
                                      const std::vector<std::string>& types) {
  return translate_errors("job_claim", [&] {
    auto now = std::chrono::steady_clock::now();
    const auto cursor = impl_->cursors.start(queue, now);
    // One statement is its own transaction: no BEGIN/COMMIT round trips,
    // which are most of a single claim's latency on an idle machine.
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_prepared("job_claim", worker_id, queue, limit,
                                 cursor ? cursor->priority : "-32768",
                                 cursor ? cursor->run_at : "-infinity",
                                 cursor ? cursor->id : "0", text_array(types));
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - now);
    std::vector<claimed_job> jobs;
    jobs.reserve(rows.size());
    for (const auto& r : rows) {
      claimed_job j;
      j.id = r[0].as<int64_t>();
      j.type = r[1].as<std::string>();
      j.queue = r[2].as<std::string>();
      j.payload = r[3].as<std::string>();
      j.attempt = r[4].as<int32_t>();
      j.max_attempts = r[5].as<int32_t>();
      j.correlation_id = r[6].as<std::string>();
      j.trace_id = r[7].as<std::string>("");
      j.priority = r[8].as<int32_t>();
      jobs.push_back(std::move(j));
    }
    std::optional<claim_key> last;
    if (!rows.empty()) {
      const auto row = rows[rows.size() - 1];
      last = claim_key{row[8].c_str(), row[9].c_str(), row[0].c_str()};
    }
    impl_->cursors.claimed(queue, rows.size(), limit, last, !cursor, took, now);
    return jobs;
  });
}

void store::set_claim_cursor_max_age(std::chrono::milliseconds age) {
  impl_->cursors.set_max_age(age);
}

renew_reply store::renew(const std::string& worker_id,
                         const std::vector<lease_ref>& leases,
                         const instance_terms& terms,
                         const std::vector<progress_report>& progress) {
  const auto lists = split_leases(leases);
  const auto ids = bigint_array(lists.first);
  const auto attempts = bigint_array(lists.second);
  renew_reply reply;
  // Each step is one statement, its own transaction: none waits for another.
  try {
    translate_errors("instance_heartbeat", [&] {
      pqxx::nontransaction tx{impl_->conn};
      auto rows = tx.exec_prepared("instance_heartbeat", worker_id, terms.lease_ttl_ms,
                                   terms.stale_after_ms, terms.stop_timeout_ms);
      reply.instance_lost = rows.empty();
      reply.drain = !rows.empty() && rows[0][1].as<bool>();
      return 0;
    });
  } catch (const store_busy&) {
    // Someone holds our row locked: renew the leases all the same; the
    // registration is renewed next time (its stale threshold is several
    // heartbeats long).
  }
  std::set<std::pair<int64_t, int32_t>> held;
  if (!leases.empty())
    translate_errors("lease_renew", [&] {
      pqxx::nontransaction tx{impl_->conn};
      for (const auto& r : tx.exec_prepared("lease_renew", worker_id, ids, attempts))
        held.emplace(r[0].as<int64_t>(), r[1].as<int32_t>());
      return 0;
    });
  for (const auto& l : leases)
    if (held.count({l.job_id, l.attempt}) == 0)
      reply.lost.push_back(l);
  if (!progress.empty())
    reply.progress_refused = write_progress(worker_id, progress);
  if (!reply.instance_lost)
    translate_errors("lease_abandon_unknown", [&] {
      pqxx::work tx{impl_->conn};
      for (const auto& r : tx.exec_prepared("lease_abandon_unknown", worker_id, ids,
                                            terms.lease_ttl_ms))
        reply.abandoned.push_back(r[0].as<int64_t>());
      complete_runs(tx, reply.abandoned); // ttl_exceeded may end a run
      tx.commit();
      return 0;
    });
  return reply;
}

std::vector<int64_t> store::release(const std::string& worker_id,
                                    const std::vector<lease_ref>& leases,
                                    const std::string& outcome) {
  const auto lists = split_leases(leases);
  const auto& ids = lists.first;
  const auto& attempts = lists.second;
  return translate_errors("job_release", [&] {
    pqxx::work tx{impl_->conn};
    std::vector<int64_t> released;
    for (const auto& r : tx.exec_prepared("job_release", worker_id,
                                          bigint_array(ids),
                                          bigint_array(attempts), outcome))
      released.push_back(r[0].as<int64_t>());
    tx.commit();
    return released;
  });
}

std::vector<int64_t> store::unclaim(const std::string& worker_id,
                                    const std::vector<lease_ref>& leases) {
  const auto lists = split_leases(leases);
  return translate_errors("job_unclaim", [&] {
    pqxx::nontransaction tx{impl_->conn};
    std::vector<int64_t> ids;
    for (const auto& r : tx.exec_prepared("job_unclaim", worker_id,
                                          bigint_array(lists.first),
                                          bigint_array(lists.second)))
      ids.push_back(r[0].as<int64_t>());
    return ids;
  });
}

std::string redact_database_url(const std::string& url) {
  // postgresql://user:secret@host -> postgresql://user:***@host, and
  // password=secret in key/value form.
  static const std::regex in_url{R"((://[^:/@\s]*:)[^@\s]*@)"};
  static const std::regex in_kv{R"((password\s*=\s*)('[^']*'|\S+))"};
  auto out = std::regex_replace(url, in_url, "$1***@");
  return std::regex_replace(out, in_kv, "$1***");
}

} // namespace leasehold
