// The store's runs: create, read, list and retry partitions.
#include "persistence/store.hpp"

#include <nlohmann/json.hpp>

#include "persistence/store_internal.hpp"

namespace leasehold {

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

} // namespace leasehold
