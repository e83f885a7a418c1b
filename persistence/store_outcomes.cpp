// Writing attempts' outcomes: one batch of successes and failures in one
// transaction, fenced by each attempt's lease (the hot path's second half).
#include "persistence/store.hpp"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "persistence/store_internal.hpp"
#include "runtime/defaults.hpp"

namespace leasehold {

namespace {

// Compact JSON text made by the node (output_text) as a value; "" is null.
nlohmann::json json_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
}

} // namespace

std::vector<completion_result>
store::complete(const std::string& worker_id,
                const std::vector<job_outcome>& batch,
                const trace_policy& policy) {
  // Successes, the bulk of the traffic, are written as
  // [[id,attempt,buffered_ms],...]
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
      successes += ',';
      successes += std::to_string(o.buffered_ms);
      // Output and progress are already compact JSON text (or absent).
      if (!o.output.empty() || !o.progress.empty()) {
        successes += ',';
        successes += o.output.empty() ? "null" : o.output;
        successes += ',';
        successes += o.progress.empty() ? "null" : o.progress;
      }
      successes += ']';
    } else {
      failures.push_back({{"id", o.lease.job_id},
                          {"attempt", o.lease.attempt},
                          {"error", o.error},
                          {"code", o.error_code},
                          {"final", o.kind == job_outcome::failed},
                          {"delay_ms", o.retry_delay_ms},
                          {"buffered_ms", o.buffered_ms},
                          {"snooze", o.kind == job_outcome::snoozed},
                          {"output", json_or_null(o.output)},
                          {"progress", json_or_null(o.progress)}});
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
                              {"max_attempts", c.max_attempts},
                              {"unique_key", c.unique_key},
                              {"unique_while", c.unique_while},
                              {"unique_for_ms", c.unique_for_ms}});
      }
      if (!children.empty())
        tx.exec_prepared("job_insert_children", children.dump());
    }
    if (!failures.empty()) {
      for (const auto& r :
           tx.exec_prepared("job_complete_failure", worker_id, failures.dump(),
                            defaults::max_snoozes)) {
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

} // namespace leasehold
