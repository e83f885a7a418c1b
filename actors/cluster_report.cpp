#include "actors/cluster_report.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace leasehold {

namespace {

nlohmann::json link_json(const cluster_link_v1& l) {
  return {{"worker_id", l.worker_id}, {"endpoint", l.endpoint}, {"state", l.state},
          {"reason", l.reason}, {"since_ms", l.since_ms}};
}

nlohmann::json view_json(const cluster_view_v1& v) {
  auto attempts = nlohmann::json::array();
  for (const auto& a : v.attempts) {
    nlohmann::json progress = nullptr;
    if (!a.progress.empty())
      progress = nlohmann::json::parse(a.progress, nullptr, false);
    if (progress.is_discarded())
      progress = nullptr;
    attempts.push_back({{"job_id", a.job_id}, {"type", a.type}, {"queue", a.queue},
                        {"attempt", a.attempt}, {"age_ms", a.age_ms},
                        {"trace_id", a.trace_id}, {"progress", progress}});
  }
  auto links = nlohmann::json::array();
  for (const auto& l : v.links)
    links.push_back(link_json(l));
  return {{"worker_id", v.worker_id},
          {"reachable", true},
          {"version", v.version},
          {"protocol", v.protocol},
          {"uptime_ms", v.uptime_ms},
          {"in_flight", v.attempts.size()},
          {"prefetched", v.prefetched},
          {"pool", {{"busy", v.pool_busy}, {"size", v.pool_size}}},
          {"claims_per_second", v.claims_per_second},
          {"completions_per_second", v.completions_per_second},
          {"supervised_failures", v.failures},
          {"attempts", attempts},
          {"links", links}};
}

} // namespace

std::string cluster_report_json(const std::vector<cluster_view_v1>& views,
                                const std::vector<cluster_link_v1>& unreachable,
                                const std::string& gathered_by, int64_t took_ms) {
  auto nodes = nlohmann::json::array();
  for (const auto& v : views)
    nodes.push_back(view_json(v));
  for (const auto& l : unreachable)
    nodes.push_back({{"worker_id", l.worker_id}, {"endpoint", l.endpoint},
                     {"reachable", false}, {"state", l.state}, {"reason", l.reason},
                     {"since_ms", l.since_ms}});
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) {
    return a.at("worker_id").template get<std::string>()
           < b.at("worker_id").template get<std::string>();
  });
  return nlohmann::json{{"gathered_by", gathered_by},
                        {"took_ms", took_ms},
                        {"nodes", nodes},
                        {"reachable", views.size()},
                        {"unreachable", unreachable.size()}}
    .dump();
}

} // namespace leasehold
