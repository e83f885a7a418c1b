#pragma once

// Shared by the store's source files (store.cpp and the store_*.cpp files,
// one per aggregate): the connection, libpqxx error translation and small
// helpers. Not for use outside persistence/.

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "persistence/claim_cursor.hpp"
#include "persistence/store.hpp"

namespace leasehold {

inline std::string first_line(const std::string& text) {
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
  } catch (const pqxx::unique_violation& e) {
    // A key someone else holds (a unique job key, a run's): the caller's
    // request, not the store, is what cannot be done.
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

inline std::string bigint_array(const std::vector<int64_t>& xs) {
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
inline std::string text_array(const std::vector<std::string>& xs) {
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
inline std::pair<std::vector<int64_t>, std::vector<int64_t>>
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
inline void complete_runs(pqxx::work& tx, const std::vector<int64_t>& job_ids) {
  if (job_ids.empty())
    return;
  auto ids = bigint_array(job_ids);
  if (tx.exec_prepared("run_lock", ids).empty())
    return; // none of these jobs is a partition
  tx.exec_prepared("run_complete_check", ids);
}

// Runs a read-only statement that returns one JSON text value.
template <class... Args>
std::string read_json(pqxx::connection& conn, const char* name, Args&&... args) {
  return translate_errors(name, [&] {
    pqxx::read_transaction tx{conn};
    return tx.exec_prepared(name, std::forward<Args>(args)...)[0][0]
      .template as<std::string>();
  });
}

inline std::optional<job_change> change_job(pqxx::connection& conn, const char* name,
                                     int64_t id) {
  return translate_errors(name, [&]() -> std::optional<job_change> {
    pqxx::work tx{conn};
    auto rows = tx.exec_prepared(name, id);
    complete_runs(tx, {id}); // a cancelled partition may end its run
    tx.commit();
    if (rows.empty())
      return std::nullopt;
    job_change c{rows[0][0].as<std::string>(), rows[0][1].as<bool>(), ""};
    if (rows.columns() > 2 && !rows[0][2].is_null())
      c.owner = rows[0][2].as<std::string>();
    return c;
  });
}

// Where a retention pass got to in one kind's walk (runs, succeeded, dead
// jobs; unique keys, instances and violations only have done): the last row examined,
// or done. The next pass on this connection
// goes on from there, so chains that must stay are walked past once per
// cycle, not once per pass (persistence/store_retention.cpp).
struct retention_cursor {
  std::string at = "-infinity";
  std::string id = "0";
  bool done = false;
};

struct store::impl {
  pqxx::connection conn;
  claim_cursors cursors;
  std::array<retention_cursor, 6> retention;
  impl(const std::string& url, statement_plans plans, wait_limits limits);
};

} // namespace leasehold
