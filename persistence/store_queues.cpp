// Queues as operators see them: pause and resume (migration 021), and each
// queue's state for `leasehold queue list` and GET /queues.
#include "persistence/store.hpp"

#include <nlohmann/json.hpp>

#include "persistence/store_internal.hpp"

namespace leasehold {

std::string store::set_queue_paused(const std::string& queue, bool paused) {
  return translate_errors("queue_set_paused", [&] {
    pqxx::nontransaction tx{impl_->conn};
    return tx.exec_prepared1("queue_set_paused", queue, paused)[0].as<std::string>();
  });
}

std::string store::set_queue_limits(const std::string& queue, const std::string& limits) {
  return translate_errors("queue_set_limits", [&] {
    pqxx::nontransaction tx{impl_->conn};
    return tx.exec_prepared1("queue_set_limits", queue, limits)[0].as<std::string>();
  });
}

std::string store::set_queue_concurrency(const std::string& queue,
                                         std::optional<int32_t> limit) {
  nlohmann::json limits;
  limits["concurrency"] = limit ? nlohmann::json(*limit) : nlohmann::json(nullptr);
  return set_queue_limits(queue, limits.dump());
}

queue_states store::queue_states_now() {
  return translate_errors("queue_paused_list", [&] {
    pqxx::nontransaction tx{impl_->conn};
    queue_states out;
    for (const auto& row : tx.exec_prepared("queue_paused_list")) {
      if (row[1].as<bool>())
        out.paused.push_back(row[0].as<std::string>());
      if (row[2].as<bool>())
        out.limited.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

std::string store::queues_json() {
  return read_json(impl_->conn, "observe_queues");
}

} // namespace leasehold
