#include "runtime/health.hpp"

#include <string>

namespace leasehold {

namespace {

void alert(nlohmann::json& alerts, const char* severity, const char* code,
           const std::string& message) {
  alerts.push_back({{"severity", severity}, {"code", code}, {"message", message}});
}

int64_t number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<int64_t>() : 0;
}

/// "job 7 (email) on w-1, <tail>; job 9 ..." for the jobs listed under `key`;
/// `tail` says what is wrong with each one.
template <class Tail>
std::string job_list(const nlohmann::json& h, const char* key, const char* holder, Tail tail) {
  std::string where;
  for (const auto& j : h.value(key, nlohmann::json::array()))
    where += (where.empty() ? "" : "; ") + std::string{"job "} + j["id"].dump() + " ("
             + j["type"].get<std::string>() + ") " + holder + " "
             + j["worker"].get<std::string>() + ", " + tail(j);
  return where;
}

} // namespace

void add_alerts(nlohmann::json& h, const alert_thresholds& t) {
  auto alerts = nlohmann::json::array();
  auto stuck = number(h, "stuck_count");
  if (stuck > 0) {
    auto where = job_list(h, "stuck_jobs", "on", [](const nlohmann::json& j) {
      return "silent " + j["heartbeat_age_seconds"].dump() + "s";
    });
    alert(alerts, "critical", "STUCK_JOBS",
          std::to_string(stuck) + " running job(s) without a heartbeat for longer than"
            " their owner's lease TTL: " + where
            + ". Their node is dead or hung; reapers requeue them (see /workers)");
  }
  auto unowned = number(h, "unowned_count");
  if (unowned > 0) {
    auto where = job_list(h, "unowned_jobs", "held by", [](const nlohmann::json& j) {
      return j["owner_status"].get<std::string>();
    });
    alert(alerts, "critical", "UNOWNED_LEASES",
          std::to_string(unowned) + " running job(s) held by a worker that is not"
            " registered or was revoked: " + where
            + ". No reaper is running, or it cannot write (see /workers, leasehold verify)");
  }
  double lag = h.value("estimated_lag_seconds", 0.0);
  if (lag > static_cast<double>(t.lag_critical_seconds))
    alert(alerts, "critical", "QUEUE_LAG",
          "the oldest due job has waited " + std::to_string(static_cast<int64_t>(lag))
            + "s (limit " + std::to_string(t.lag_critical_seconds)
            + "s): too few workers or they are stuck (see /workers, jobs_queued)");
  const auto& w = h["workers"];
  for (const auto& c : w.value("singleton_conflicts", nlohmann::json::array()))
    alert(alerts, "critical", "SINGLETON_CONFLICT",
          std::to_string(c["active"].get<int64_t>()) + " active instances of singleton type '"
            + c["worker_type"].get<std::string>() + "' (see /workers)");
  auto hung = number(w, "hung_stopping");
  if (hung > 0)
    alert(alerts, "critical", "HUNG_STOPPING",
          std::to_string(hung) + " instance(s) stuck in STOPPING past the stop timeout: "
            + w.value("hung_stopping_ids", nlohmann::json::array()).dump());
  // A warning: a rolling deploy raises it until the first node with the new
  // handler starts; a type left unserved for long also raises QUEUE_LAG.
  for (const auto& u : h.value("unserved_types", nlohmann::json::array())) {
    auto waited = static_cast<int64_t>(u["oldest_wait_seconds"].get<double>());
    alert(alerts, "warning", "UNSERVED_TYPE",
          std::to_string(u["queued"].get<int64_t>()) + " queued job(s) of type '"
            + u["type"].get<std::string>() + "' that no live node serves, the oldest"
            " waiting " + std::to_string(waited)
            + "s: they wait for a node with its handler (see /workers)");
  }
  for (const auto& q : h.value("paused_queues", nlohmann::json::array())) {
    auto since = static_cast<int64_t>(q["paused_seconds"].get<double>());
    alert(alerts, "warning", "QUEUE_PAUSED",
          "queue '" + q["queue"].get<std::string>() + "' is paused (for " + std::to_string(since)
            + "s) with " + q["due"].dump() + " due jobs waiting: nodes claim nothing from it"
            " (leasehold queue resume " + q["queue"].get<std::string>() + ")");
  }
  // A limit doing its work is no fault, but a backlog it holds back for a
  // minute is worth a look: raise the limit, or add no nodes (they would not help).
  for (const auto& q : h.value("limited_queues", nlohmann::json::array())) {
    auto name = q["queue"].get<std::string>();
    auto due = q.value("due", int64_t{0});
    if (q["at_limit_seconds"].is_number() && q["at_limit_seconds"].get<double>() >= 60 && due > 0)
      alert(alerts, "warning", "QUEUE_AT_LIMIT",
            "queue '" + name + "' has held its concurrency limit (" + q["concurrency"].dump()
              + ") for " + std::to_string(static_cast<int64_t>(q["at_limit_seconds"].get<double>()))
              + "s with " + std::to_string(due) + " due jobs waiting: more nodes will not help"
              " (leasehold queue limit " + name + " --concurrency N)");
    if (q["rate"].is_number() && q["started_per_second"].is_number() && due > 0) {
      auto limit_per_second = q["rate"].get<double>() / q["rate_period_seconds"].get<double>();
      if (q["started_per_second"].get<double>() >= 0.9 * limit_per_second)
        alert(alerts, "warning", "QUEUE_RATE_LIMITED",
              "queue '" + name + "' starts " + q["started_per_second"].dump()
                + " jobs/s, held to its rate (" + q["rate"].dump() + " per "
                + q["rate_period_seconds"].dump() + "s) with " + std::to_string(due)
                + " due jobs waiting (leasehold queue limit " + name + " --rate N/PERIOD)");
    }
  }
  for (const auto& s : h.value("late_schedules", nlohmann::json::array())) {
    auto late = static_cast<int64_t>(s["late_seconds"].get<double>());
    alert(alerts, "warning", "SCHEDULE_LATE",
          "schedule '" + s["name"].get<std::string>() + "' (type '"
            + s["type"].get<std::string>() + "') is " + std::to_string(late)
            + "s behind its tick: no node enqueued it (see /workers; nodes with"
            " --schedule-interval 0ms enqueue none)");
  }
  auto dead = number(h, "dead_last_24h");
  if (dead > t.dead_warning) {
    std::string top;
    for (const auto& d : h.value("dead_top", nlohmann::json::array()))
      top += (top.empty() ? "" : ", ") + d["type"].get<std::string>() + "/"
             + d["reason"].get<std::string>() + " x" + d["count"].dump();
    alert(alerts, "warning", "DEAD_JOBS",
          std::to_string(dead) + " jobs died in the last 24h, most: " + top
            + " (see /dead-jobs?type=...)");
  }
  for (const auto& d : w.value("version_drift", nlohmann::json::array()))
    alert(alerts, "warning", "VERSION_DRIFT",
          "worker type '" + d["worker_type"].get<std::string>() + "' runs versions "
            + d["versions"].dump() + " (see /workers)");
  auto violations = number(h, "policy_violations_last_24h");
  if (violations > 0)
    alert(alerts, "warning", "POLICY_VIOLATIONS",
          std::to_string(violations) + " trace-id policy violation(s) in the last 24h"
            " (jobs succeeded without a trace_id; see the POLICY_VIOLATION logs)");
  h["alerts"] = alerts;
  h["status"] = alerts.empty() ? "ok"
                : alerts[0]["severity"] == "critical" ? "critical" : "warning";
}

} // namespace leasehold
