// The store's worker instances: registration, status, listing, and the
// rescue sweep that judges silent instances and their jobs.
#include "persistence/store.hpp"

#include <limits>

#include "persistence/store_internal.hpp"

namespace leasehold {

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
    // One statement, its own transaction: nothing stays open between
    // statements, whatever happens to this process.
    pqxx::nontransaction tx{impl_->conn};
    return !tx.exec_prepared("instance_set_status", worker_id, to, states).empty();
  });
}

bool store::set_instance_endpoint(const std::string& worker_id, const std::string& endpoint) {
  return translate_errors("instance_set_endpoint", [&] {
    pqxx::nontransaction tx{impl_->conn};
    // A null pointer is bound as NULL.
    const char* value = endpoint.empty() ? nullptr : endpoint.c_str();
    return !tx.exec_prepared("instance_set_endpoint", worker_id, value).empty();
  });
}

bool store::request_drain(const std::string& worker_id) {
  return translate_errors("instance_request_drain", [&] {
    pqxx::nontransaction tx{impl_->conn};
    return !tx.exec_prepared("instance_request_drain", worker_id).empty();
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

} // namespace leasehold
