#include "persistence/store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <optional>
#include <map>
#include <set>
#include <unordered_map>
#include <regex>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include "persistence/migrations.hpp"
#include "persistence/sql_statements.hpp"

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
  {"lease_abandon_unknown", sql::lease_abandon_unknown},
  {"job_complete_success", sql::job_complete_success},
  {"job_complete_failure", sql::job_complete_failure},
  {"job_insert_children", sql::job_insert_children},
  {"job_insert", sql::job_insert},
  {"job_reserve_ids", sql::job_reserve_ids},
  {"job_get", sql::job_get},
  {"job_rescue", sql::job_rescue},
  {"job_release", sql::job_release},
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
  {"observe_chain", sql::observe_chain},
  {"observe_queue_depth", sql::observe_queue_depth},
  {"instance_expire_stale", sql::instance_expire_stale},
  {"instance_register", sql::instance_register},
  {"instance_active_holder", sql::instance_active_holder},
  {"instance_set_status", sql::instance_set_status},
  {"instance_heartbeat", sql::instance_heartbeat},
  {"instance_list", sql::instance_list},
  {"instance_version_drift", sql::instance_version_drift},
};

std::string first_line(const std::string& text) {
  auto end = text.find('\n');
  auto line = end == std::string::npos ? text : text.substr(0, end);
  // Postgres prefixes its messages with "ERROR:  "; users need the rest.
  for (const char* prefix : {"ERROR:  ", "FATAL:  "})
    if (line.rfind(prefix, 0) == 0)
      line.erase(0, std::char_traits<char>::length(prefix));
  return line;
}

// Translates libpqxx exceptions at the boundary: connectivity problems
// become store_unavailable (the caller may reconnect and retry), everything
// else store_error with Postgres' own one-line message.
template <class F>
auto translate_errors(const char* what, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const pqxx::broken_connection& e) {
    throw store_unavailable(std::string{what} + ": "
                            + first_line(redact_database_url(e.what())));
  } catch (const pqxx::in_doubt_error& e) {
    throw store_unavailable(std::string{what} + ": " + first_line(e.what()));
  } catch (const pqxx::data_exception& e) {
    throw store_invalid_input(first_line(e.what()));
  } catch (const pqxx::check_violation& e) {
    throw store_invalid_input(first_line(e.what()));
  } catch (const pqxx::sql_error& e) {
    // lock_not_available, query_canceled: a bounded wait ran out.
    if (e.sqlstate() == "55P03" || e.sqlstate() == "57014")
      throw store_busy(std::string{what} + ": " + first_line(e.what()));
    throw store_error(std::string{what} + ": " + first_line(e.what()));
  } catch (const pqxx::failure& e) {
    throw store_unavailable(std::string{what} + ": " + first_line(e.what()));
  }
}

std::string bigint_array(const std::vector<int64_t>& xs) {
  std::string out = "{";
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ',';
    out += std::to_string(xs[i]);
  }
  return out + "}";
}

// A text[] literal: every element double-quoted, with " and \ escaped, so
// any type name (commas, braces, quotes, NULL) stays one element. It is
// bound as a parameter like any value.
std::string text_array(const std::vector<std::string>& xs) {
  std::string out = "{";
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ',';
    out += '"';
    for (char c : xs[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// Job ids and attempts as two parallel arrays, for unnest($2, $3).
std::pair<std::vector<int64_t>, std::vector<int64_t>>
split_leases(const std::vector<lease_ref>& leases) {
  std::pair<std::vector<int64_t>, std::vector<int64_t>> out;
  for (const auto& l : leases) {
    out.first.push_back(l.job_id);
    out.second.push_back(l.attempt);
  }
  return out;
}

// After partitions changed in `tx`: lock their runs (in id order), then
// complete those whose partitions are all terminal. Lock-then-check in a
// fresh statement is what makes completion exactly once across nodes.
void complete_runs(pqxx::work& tx, const std::vector<int64_t>& job_ids) {
  if (job_ids.empty())
    return;
  auto ids = bigint_array(job_ids);
  if (tx.exec_prepared("run_lock", ids).empty())
    return; // none of these jobs is a partition
  tx.exec_prepared("run_complete_check", ids);
}

// Where this connection's next claim of a queue starts (see job_claim.sql).
struct claim_cursor {
  std::string priority, run_at, id;
  std::chrono::steady_clock::time_point set_at;
};

} // namespace

// The URL with client-side TCP keepalives added (unless it sets its own), so
// a node notices a server that went silent (a partition, a frozen host)
// instead of waiting on the socket for the kernel's two hours.
std::string with_keepalives(const std::string& url) {
  if (url.find("keepalives") != std::string::npos)
    return url;
  const char* params[] = {"keepalives=1", "keepalives_idle=10",
                          "keepalives_interval=5", "keepalives_count=2"};
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

struct store::impl {
  pqxx::connection conn;
  std::unordered_map<std::string, claim_cursor> claim_cursors;
  std::chrono::milliseconds claim_cursor_max_age{500};
  impl(const std::string& url, statement_plans plans, wait_limits limits)
    : conn(limits == wait_limits::bounded ? with_keepalives(url) : url) {
    if (plans == statement_plans::generic)
      pqxx::nontransaction{conn}.exec("SET plan_cache_mode = force_generic_plan");
    if (limits == wait_limits::bounded)
      // The server side too: a node that vanished has its session (and any
      // lock it held) ended in about 20s.
      pqxx::nontransaction{conn}.exec(
        "SET lock_timeout = '2s'; SET statement_timeout = '15s';"
        " SET idle_in_transaction_session_timeout = '30s';"
        " SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5;"
        " SET tcp_keepalives_count = 2");
    for (const auto& s : prepared_statements)
      conn.prepare(s.name, std::string{s.text});
  }
};

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
    auto cursor = impl_->claim_cursors.find(queue);
    if (cursor != impl_->claim_cursors.end()
        && now - cursor->second.set_at > impl_->claim_cursor_max_age) {
      impl_->claim_cursors.erase(cursor);
      cursor = impl_->claim_cursors.end();
    }
    const bool from_start = cursor == impl_->claim_cursors.end();
    // One statement is its own transaction: no BEGIN/COMMIT round trips,
    // which are most of a single claim's latency on an idle machine.
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_prepared("job_claim", worker_id, queue, limit,
                                 from_start ? "-32768" : cursor->second.priority,
                                 from_start ? "-infinity" : cursor->second.run_at,
                                 from_start ? "0" : cursor->second.id,
                                 text_array(types));
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
      jobs.push_back(std::move(j));
    }
    // A full batch means more jobs may wait past its last one: start there
    // next time. A short batch may have missed nothing but jobs that sort
    // before the cursor, so the next claim starts from the head again.
    if (rows.size() == static_cast<size_t>(limit) && limit > 0) {
      const auto last = rows[rows.size() - 1];
      auto& next = impl_->claim_cursors[queue];
      next.priority = last[8].c_str();
      next.run_at = last[9].c_str();
      next.id = last[0].c_str();
      if (from_start)
        next.set_at = now;
    } else {
      impl_->claim_cursors.erase(queue);
    }
    return jobs;
  });
}

void store::set_claim_cursor_max_age(std::chrono::milliseconds age) {
  impl_->claim_cursor_max_age = age;
}

renew_reply store::renew(const std::string& worker_id,
                         const std::vector<lease_ref>& leases,
                         const instance_terms& terms) {
  const auto lists = split_leases(leases);
  const auto ids = bigint_array(lists.first);
  const auto attempts = bigint_array(lists.second);
  renew_reply reply;
  // Each step is one statement, its own transaction: none waits for another.
  try {
    translate_errors("instance_heartbeat", [&] {
      pqxx::nontransaction tx{impl_->conn};
      reply.instance_lost = tx.exec_prepared("instance_heartbeat", worker_id,
                                             terms.lease_ttl_ms, terms.stale_after_ms,
                                             terms.stop_timeout_ms)
                              .empty();
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

std::vector<completion_result>
store::complete(const std::string& worker_id,
                const std::vector<job_outcome>& batch,
                const trace_policy& policy) {
  // Successes, the bulk of the traffic, are written as [[id,attempt],...]
  // text directly; failures carry text and are rarer, so they go through
  // nlohmann.
  std::string successes = "[";
  auto failures = nlohmann::json::array();
  std::unordered_map<int64_t, const job_outcome*> by_id;
  by_id.reserve(batch.size());
  for (const auto& o : batch) {
    by_id[o.lease.job_id] = &o;
    if (o.kind == job_outcome::succeeded) {
      if (successes.size() > 1)
        successes += ',';
      successes += '[';
      successes += std::to_string(o.lease.job_id);
      successes += ',';
      successes += std::to_string(o.lease.attempt);
      successes += ']';
    } else {
      failures.push_back({{"id", o.lease.job_id},
                          {"attempt", o.lease.attempt},
                          {"error", o.error},
                          {"code", o.error_code},
                          {"final", o.kind == job_outcome::failed},
                          {"delay_ms", o.retry_delay_ms}});
    }
  }
  successes += ']';
  return translate_errors("job_complete", [&] {
    std::unordered_map<int64_t, completion_result> written;
    written.reserve(batch.size());
    std::vector<int64_t> partitions;
    pqxx::work tx{impl_->conn};
    if (successes != "[]") {
      auto children = nlohmann::json::array();
      auto rows = tx.exec_prepared("job_complete_success", worker_id,
                                   successes, policy.cutoff,
                                   policy.strict ? "true" : "false");
      for (const auto& r : rows) {
        auto id = r[0].as<int64_t>();
        bool violates = r[1].as<bool>();
        written[id] = {id, true, violates};
        if (r[2].as<bool>())
          partitions.push_back(id);
        if (violates && policy.strict)
          continue; // it failed instead: no children
        for (const auto& c : by_id[id]->children)
          children.push_back({{"parent_id", id},
                              {"type", c.type},
                              {"payload", nlohmann::json::parse(c.payload)},
                              {"queue", c.queue},
                              {"priority", c.priority},
                              {"max_attempts", c.max_attempts}});
      }
      if (!children.empty())
        tx.exec_prepared("job_insert_children", children.dump());
    }
    if (!failures.empty()) {
      for (const auto& r :
           tx.exec_prepared("job_complete_failure", worker_id, failures.dump())) {
        written[r[0].as<int64_t>()] = {r[0].as<int64_t>(), true, false};
        if (r[1].as<bool>())
          partitions.push_back(r[0].as<int64_t>());
      }
    }
    // Only run partitions can finish a run; most batches have none, which
    // saves the run lock statement and its probe of every id.
    std::sort(partitions.begin(), partitions.end());
    complete_runs(tx, partitions);
    tx.commit();
    std::vector<completion_result> results;
    results.reserve(batch.size());
    for (const auto& o : batch) {
      auto i = written.find(o.lease.job_id);
      results.push_back(i != written.end()
                          ? i->second
                          : completion_result{o.lease.job_id, false, false});
    }
    return results;
  });
}

void store::register_instance(const instance_info& me,
                              std::chrono::milliseconds stale_after,
                              std::chrono::milliseconds stop_timeout) {
  try {
    translate_errors("instance_register", [&] {
      pqxx::work tx{impl_->conn};
      // Bounded waits: a registration never hangs behind a stuck lock.
      tx.exec("SET LOCAL lock_timeout = '5s'");
      tx.exec("SET LOCAL statement_timeout = '15s'");
      // A node that is just starting has watched nothing: Postgres's own
      // uptime is the only window it can judge silence in.
      constexpr int64_t since_postgres_started = std::numeric_limits<int64_t>::max();
      tx.exec_prepared("instance_expire_stale", stale_after.count(),
                       stop_timeout.count(), since_postgres_started);
      tx.exec_prepared("instance_register", me.worker_id, me.worker_type,
                       me.singleton ? "true" : "false", me.hostname, me.pid,
                       me.version, me.metadata, me.terms.lease_ttl_ms,
                       me.terms.stale_after_ms, me.terms.stop_timeout_ms);
      tx.commit();
      return 0;
    });
  } catch (const store_error& e) {
    if (std::string{e.what()}.find("worker_instances_one_active_singleton")
        == std::string::npos)
      throw;
    std::string holder = "an unknown instance";
    translate_errors("instance_active_holder", [&] {
      pqxx::read_transaction tx{impl_->conn};
      auto rows = tx.exec_prepared("instance_active_holder", me.worker_type);
      if (!rows.empty())
        holder = rows[0][0].as<std::string>() + " on "
                 + rows[0][1].as<std::string>() + " (pid "
                 + rows[0][2].as<std::string>() + ")";
      return 0;
    });
    throw singleton_conflict("another " + me.worker_type
                             + " worker is already active: " + holder);
  }
}

bool store::set_instance_status(const std::string& worker_id,
                                const std::string& to,
                                const std::vector<std::string>& from) {
  std::string states = "{";
  for (size_t i = 0; i < from.size(); ++i)
    states += (i > 0 ? "," : "") + from[i];
  states += "}";
  return translate_errors("instance_set_status", [&] {
    pqxx::work tx{impl_->conn};
    auto rows = tx.exec_prepared("instance_set_status", worker_id, to, states);
    tx.commit();
    return !rows.empty();
  });
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

std::string store::instances_json(bool include_stopped) {
  return translate_errors("instance_list", [&] {
    pqxx::read_transaction tx{impl_->conn};
    return tx.exec_prepared("instance_list", include_stopped ? "true" : "false")[0][0]
      .as<std::string>();
  });
}

std::string store::version_drift_json() {
  return translate_errors("instance_version_drift", [&] {
    pqxx::read_transaction tx{impl_->conn};
    return tx.exec_prepared("instance_version_drift")[0][0].as<std::string>();
  });
}

rescue_reply store::rescue_expired(const rescue_request& req) {
  return translate_errors("job_rescue", [&] {
    pqxx::work tx{impl_->conn};
    rescue_reply reply;
    for (const auto& r : tx.exec_prepared("instance_expire_stale",
                                          req.stale_after_ms, req.stop_timeout_ms,
                                          req.observed_ms))
      reply.instances.push_back(r[0].as<std::string>());
    for (const auto& r : tx.exec_prepared("job_rescue", req.lease_ttl_ms,
                                          req.retry_base_ms, req.retry_cap_ms,
                                          req.observed_ms))
      reply.jobs.push_back(r[0].as<int64_t>());
    complete_runs(tx, reply.jobs); // ttl_exceeded may end a run
    tx.commit();
    return reply;
  });
}

int64_t store::enqueue(const new_job& job) {
  return translate_errors("job_insert", [&] {
    // One INSERT is atomic on its own: autocommit saves two round trips.
    pqxx::nontransaction tx{impl_->conn};
    auto row = tx.exec_prepared1("job_insert", job.type, job.payload, job.queue,
                                 job.priority, job.max_attempts, job.run_at,
                                 job.correlation_id);
    return row[0].as<int64_t>();
  });
}

namespace {

// The optional fields of a new job, as COPY columns; rows that set the same
// ones are copied together, so the others take the table's own defaults.
struct optional_column {
  const char* name;
  bool (*is_set)(const new_job&);
  std::string (*text)(const new_job&);
};

const optional_column optional_columns[] = {
  {"queue", [](const new_job& j) { return j.queue.has_value(); },
   [](const new_job& j) { return *j.queue; }},
  {"priority", [](const new_job& j) { return j.priority.has_value(); },
   [](const new_job& j) { return std::to_string(*j.priority); }},
  {"max_attempts", [](const new_job& j) { return j.max_attempts.has_value(); },
   [](const new_job& j) { return std::to_string(*j.max_attempts); }},
  {"run_at", [](const new_job& j) { return j.run_at.has_value(); },
   [](const new_job& j) { return *j.run_at; }},
  // Unset: stored NULL, the job is known by job-<id> (migration 014).
  {"correlation_id", [](const new_job& j) { return j.correlation_id.has_value(); },
   [](const new_job& j) { return *j.correlation_id; }},
};

} // namespace

std::vector<int64_t> store::enqueue_many(const std::vector<new_job>& jobs) {
  // Checked before anything is sent: a bad payload names its position.
  for (size_t i = 0; i < jobs.size(); ++i)
    if (!nlohmann::json::accept(jobs[i].payload))
      throw store_invalid_input("job " + std::to_string(i + 1) + ": payload is not valid JSON");
  return translate_errors("job_copy", [&] {
    // COPY, not INSERT: Postgres writes copied rows a page at a time, which
    // made a bulk enqueue ~25% faster. COPY returns no ids, so they are
    // taken from the table's sequence first, in input order; pqxx escapes
    // every field, so no value can end a row or start another.
    pqxx::work tx{impl_->conn};
    std::vector<int64_t> ids;
    ids.reserve(jobs.size());
    for (const auto& r : tx.exec_prepared("job_reserve_ids", static_cast<int64_t>(jobs.size())))
      ids.push_back(r[0].as<int64_t>());
    std::map<unsigned, std::vector<size_t>> by_fields_set;
    for (size_t i = 0; i < jobs.size(); ++i) {
      unsigned set = 0;
      for (size_t c = 0; c < std::size(optional_columns); ++c)
        if (optional_columns[c].is_set(jobs[i]))
          set |= 1u << c;
      by_fields_set[set].push_back(i);
    }
    for (const auto& [set, rows] : by_fields_set) {
      std::vector<std::string> columns{"id", "type", "payload"};
      for (size_t c = 0; c < std::size(optional_columns); ++c)
        if (set & (1u << c))
          columns.push_back(optional_columns[c].name);
      // tablewriter, though pqxx 6.4 marks it deprecated: its successor
      // stream_to takes only tuples, and the columns vary here. Its escaping
      // is byte-wise, which is safe for UTF-8 (its warning is about
      // client encodings such as SJIS).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      pqxx::tablewriter copy{tx, "leasehold.jobs", columns.begin(), columns.end()};
#pragma GCC diagnostic pop
      std::vector<std::string> fields;
      for (auto i : rows) {
        const auto& j = jobs[i];
        fields.clear();
        fields.push_back(std::to_string(ids[i]));
        fields.push_back(j.type);
        fields.push_back(j.payload);
        for (size_t c = 0; c < std::size(optional_columns); ++c)
          if (set & (1u << c))
            fields.push_back(optional_columns[c].text(j));
        copy.insert(fields.begin(), fields.end());
      }
      copy.complete();
    }
    tx.commit();
    return ids;
  });
}

std::optional<std::string> store::job_json(int64_t id) {
  return translate_errors("job_get", [&]() -> std::optional<std::string> {
    pqxx::read_transaction tx{impl_->conn};
    auto rows = tx.exec_prepared("job_get", id);
    if (rows.empty())
      return std::nullopt;
    return rows[0][0].as<std::string>();
  });
}

namespace {

// Runs a read-only statement that returns one JSON text value.
template <class... Args>
std::string read_json(pqxx::connection& conn, const char* name, Args&&... args) {
  return translate_errors(name, [&] {
    pqxx::read_transaction tx{conn};
    return tx.exec_prepared(name, std::forward<Args>(args)...)[0][0]
      .template as<std::string>();
  });
}

std::optional<job_change> change_job(pqxx::connection& conn, const char* name,
                                     int64_t id) {
  return translate_errors(name, [&]() -> std::optional<job_change> {
    pqxx::work tx{conn};
    auto rows = tx.exec_prepared(name, id);
    complete_runs(tx, {id}); // a cancelled partition may end its run
    tx.commit();
    if (rows.empty())
      return std::nullopt;
    return job_change{rows[0][0].as<std::string>(), rows[0][1].as<bool>()};
  });
}

} // namespace

std::string store::health_json(const observe_thresholds& t) {
  return read_json(impl_->conn, "observe_health", t.lease_ttl_ms,
                   t.stale_after_ms, t.stop_timeout_ms);
}

std::string store::dead_jobs_json(const dead_jobs_filter& f) {
  return read_json(impl_->conn, "observe_dead_jobs", f.limit, f.since_hours,
                   f.type, f.correlation_id);
}

std::string store::chain_json(const std::string& correlation_id) {
  return read_json(impl_->conn, "observe_chain", correlation_id);
}

std::string store::queue_depth_json() {
  return read_json(impl_->conn, "observe_queue_depth");
}

int64_t store::create_run(const run_spec& spec) {
  auto partitions = nlohmann::json::array();
  for (const auto& p : spec.partitions)
    partitions.push_back({{"key", p.key}, {"payload", nlohmann::json::parse(p.payload)}});
  try {
    return translate_errors("run_insert", [&] {
      pqxx::work tx{impl_->conn};
      auto run = tx.exec_prepared1("run_insert", spec.type, spec.label,
                                   static_cast<int32_t>(spec.partitions.size()),
                                   spec.on_complete_type, spec.correlation_id);
      auto id = run[0].as<int64_t>();
      tx.exec_prepared("run_insert_partitions", id, spec.type, run[1].as<std::string>(),
                       spec.max_attempts, partitions.dump());
      tx.commit();
      return id;
    });
  } catch (const store_error& e) {
    if (std::string{e.what()}.find("jobs_run_partition_idx") != std::string::npos)
      throw store_invalid_input("duplicate partition key in the run");
    throw;
  }
}

std::optional<std::string> store::run_json(int64_t id, bool with_partitions) {
  return translate_errors("run_get", [&]() -> std::optional<std::string> {
    pqxx::read_transaction tx{impl_->conn};
    auto rows = tx.exec_prepared("run_get", id, with_partitions ? "true" : "false");
    if (rows.empty())
      return std::nullopt;
    return rows[0][0].as<std::string>();
  });
}

std::string store::runs_json(int32_t limit) {
  return read_json(impl_->conn, "run_list", limit);
}

std::optional<std::vector<std::string>>
store::retry_run(int64_t id, const std::optional<std::string>& key) {
  return translate_errors("run_retry", [&]() -> std::optional<std::vector<std::string>> {
    pqxx::work tx{impl_->conn};
    // The run's row lock serialises retries with completions of the run.
    if (tx.exec_prepared("run_lock_by_id", id).empty())
      return std::nullopt;
    auto keys = nlohmann::json::parse(tx.exec_prepared1("run_retry", id, key)[0].as<std::string>());
    tx.commit();
    return keys.get<std::vector<std::string>>();
  });
}

std::optional<job_change> store::retry_job(int64_t id) {
  return change_job(impl_->conn, "job_retry", id);
}

std::optional<job_change> store::cancel_job(int64_t id) {
  return change_job(impl_->conn, "job_cancel", id);
}

void store::check_timestamp(const std::string& what, const std::string& text) {
  try {
    pqxx::work tx{impl_->conn};
    tx.exec_params("SELECT $1::timestamptz", text);
  } catch (const pqxx::data_exception&) {
    throw store_error("invalid --" + what + " '" + text
                      + "': not a timestamp (e.g. 2026-01-31T12:00:00Z)");
  } catch (const pqxx::sql_error&) {
    throw store_error("invalid --" + what + " '" + text
                      + "': not a timestamp (e.g. 2026-01-31T12:00:00Z)");
  }
}

std::optional<std::string> store::query_value(const std::string& sql) {
  return translate_errors("query", [&]() -> std::optional<std::string> {
    pqxx::work tx{impl_->conn};
    auto rows = tx.exec(sql);
    tx.commit();
    if (rows.empty() || rows[0][0].is_null())
      return std::nullopt;
    return rows[0][0].as<std::string>();
  });
}

void store::execute(const std::string& sql) {
  translate_errors("execute", [&] {
    pqxx::work tx{impl_->conn};
    tx.exec(sql);
    tx.commit();
    return 0;
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
