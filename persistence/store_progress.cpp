// Handlers' progress reports, written with the heartbeat's renewal.
#include "persistence/store.hpp"

#include <set>

#include <nlohmann/json.hpp>

#include "persistence/store_internal.hpp"

namespace leasehold {

std::vector<lease_ref>
store::write_progress(const std::string& worker_id,
                      const std::vector<progress_report>& reports) {
  auto input = nlohmann::json::array();
  for (const auto& r : reports)
    input.push_back({{"id", r.lease.job_id},
                     {"attempt", r.lease.attempt},
                     {"value", r.value},
                     {"message", r.message}});
  std::set<std::pair<int64_t, int32_t>> written;
  translate_errors("job_progress", [&] {
    pqxx::nontransaction tx{impl_->conn};
    for (const auto& row : tx.exec_prepared("job_progress", worker_id, input.dump()))
      written.emplace(row[0].as<int64_t>(), row[1].as<int32_t>());
    return 0;
  });
  std::vector<lease_ref> refused;
  for (const auto& r : reports)
    if (written.count({r.lease.job_id, r.lease.attempt}) == 0)
      refused.push_back(r.lease);
  return refused;
}

} // namespace leasehold
