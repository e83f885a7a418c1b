// The store's jobs outside the hot path: enqueue (one or bulk), reads for
// operators, admin retries and cancels, and tools.
#include "persistence/store.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/tablewriter>

#include "persistence/store_internal.hpp"

namespace leasehold {

namespace {

enqueued insert_one(pqxx::transaction_base& tx, const new_job& job) {
  auto row = tx.exec_prepared1("job_insert", job.type, job.payload, job.queue,
                               job.priority, job.max_attempts, job.run_at,
                               job.correlation_id, job.unique_key, job.unique_while,
                               job.unique_for_ms, job.concurrency_key);
  return {row[0].as<int64_t>(), row[1].as<bool>()};
}

} // namespace

enqueued store::enqueue_one(const new_job& job) {
  return translate_errors("job_insert", [&] {
    // One statement is atomic on its own: autocommit saves two round trips.
    pqxx::nontransaction tx{impl_->conn};
    return insert_one(tx, job);
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
  {"concurrency_key", [](const new_job& j) { return j.concurrency_key.has_value(); },
   [](const new_job& j) { return *j.concurrency_key; }},
};

} // namespace

std::vector<enqueued> store::enqueue_many(const std::vector<new_job>& jobs) {
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
    // Jobs with a unique key go one by one through leasehold.enqueue(), in
    // input order, after the others: a key may already be held.
    std::vector<size_t> plain, keyed;
    for (size_t i = 0; i < jobs.size(); ++i)
      (jobs[i].unique_key ? keyed : plain).push_back(i);
    std::vector<enqueued> out(jobs.size());
    std::vector<int64_t> ids(jobs.size());
    size_t next = 0;
    for (const auto& r : tx.exec_prepared("job_reserve_ids", static_cast<int64_t>(plain.size())))
      ids[plain[next++]] = r[0].as<int64_t>();
    std::map<unsigned, std::vector<size_t>> by_fields_set;
    for (auto i : plain) {
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
    for (auto i : plain)
      out[i].id = ids[i];
    for (auto i : keyed)
      out[i] = insert_one(tx, jobs[i]);
    tx.commit();
    return out;
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


std::string store::health_json(const observe_thresholds& t) {
  return read_json(impl_->conn, "observe_health", t.lease_ttl_ms,
                   t.stale_after_ms, t.stop_timeout_ms);
}

std::string store::dead_jobs_json(const dead_jobs_filter& f) {
  return read_json(impl_->conn, "observe_dead_jobs", f.limit, f.since_hours,
                   f.type, f.correlation_id);
}

std::string store::running_json(int32_t limit) {
  return read_json(impl_->conn, "observe_running", limit);
}

std::string store::chain_json(const std::string& correlation_id) {
  return read_json(impl_->conn, "observe_chain", correlation_id);
}

std::string store::queue_depth_json() {
  return read_json(impl_->conn, "observe_queue_depth");
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

} // namespace leasehold
