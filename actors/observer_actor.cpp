#include "actors/observer_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "runtime/metrics.hpp"
#include "runtime/version.hpp"

namespace leasehold {

namespace {

using self_ptr = observer_actor::stateful_pointer<observer_state>;

// A Prometheus label value: a queue may be named with quotes or backslashes
// (names refuse control characters only), which must not end the label.
std::string label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"')
      out += '\\';
    out += c;
  }
  return out;
}

constexpr auto query_timeout = std::chrono::seconds{5};

// Prometheus text for one labelled counter family.
std::string counter_family(const std::string& name, const std::string& help,
                           const std::string& label,
                           const std::map<std::string, int64_t>& values) {
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [key, n] : values)
    out += name + "{" + label + "=\"" + key + "\"} " + std::to_string(n) + "\n";
  return out;
}

std::string counter(const std::string& name, const std::string& help, int64_t n) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n" + name
         + " " + std::to_string(n) + "\n";
}

// A number of a queue's state as text; "" when it has none.
std::string number_field(const nlohmann::json& q, const char* key) {
  return q.contains(key) && q[key].is_number() ? q[key].dump() : std::string{};
}

std::string render_metrics(const node_stats& s, const node_metrics& m,
                           const nlohmann::json& depth) {
  std::string out;
  out += counter("leasehold_jobs_claimed_total", "Jobs claimed by this node.", s.claimed);
  out += counter_family("leasehold_jobs_completed_total",
                        "Attempts completed by this node, by outcome.", "outcome",
                        s.outcomes);
  auto lost = s.supervised_failures.count("ownership_lost")
                ? s.supervised_failures.at("ownership_lost") : 0;
  out += counter("leasehold_ownership_lost_total",
                 "Attempts that lost their lease on this node.", lost);
  out += counter_family("leasehold_supervised_failures_total",
                        "Actor exits other than normal, by reason.", "reason",
                        s.supervised_failures);
  out += counter("leasehold_lease_renewals_total", "Leases renewed.",
                 m.lease_renewals.load());
  out += counter("leasehold_policy_violations_total",
                 "Trace-id policy violations seen by this node.", s.policy_violations);
  out += counter("leasehold_executors_spawned_total",
                 "Executor actors started (one runs attempts until one fails).",
                 s.executors_spawned);
  out += "# HELP leasehold_queue_depth Jobs per queue and status.\n"
         "# TYPE leasehold_queue_depth gauge\n";
  for (const auto& [queue, counts] : depth.items())
    for (const char* status : {"queued", "running"})
      out += "leasehold_queue_depth{queue=\"" + label_value(queue) + "\",status=\"" + status
             + "\"} " + std::to_string(counts[status].get<int64_t>()) + "\n";
  out += "# HELP leasehold_queue_paused 1 while a queue is paused (leasehold queue pause).\n"
         "# TYPE leasehold_queue_paused gauge\n";
  for (const auto& [queue, counts] : depth.items())
    out += "leasehold_queue_paused{queue=\"" + label_value(queue) + "\"} "
           + (counts.value("paused", false) ? "1" : "0") + "\n";
  // Each queue's limits and what they hold back (migrations 022-024), for
  // the queues that have them.
  struct per_queue {
    const char* name;
    const char* type;
    const char* help;
    std::string (*value)(const nlohmann::json&); // "" when the queue has none
  };
  static const per_queue gauges[] = {
    {"leasehold_queue_concurrency_limit", "gauge", "A queue's cluster-wide limit on held jobs.",
     [](const nlohmann::json& q) { return number_field(q, "concurrency"); }},
    {"leasehold_queue_per_key_limit", "gauge",
     "A queue's limit on held jobs per concurrency key (1 unless set).",
     [](const nlohmann::json& q) { return number_field(q, "per_key"); }},
    {"leasehold_queue_at_limit_seconds", "gauge",
     "How long a queue has held its concurrency limit (absent: not at it).",
     [](const nlohmann::json& q) { return number_field(q, "at_limit_seconds"); }},
    {"leasehold_queue_rate_limit_per_second", "gauge", "A queue's rate limit, jobs per second.",
     [](const nlohmann::json& q) {
       return q.contains("rate") && q["rate"].is_number()
                ? std::to_string(q["rate"].get<double>() / q["rate_period_seconds"].get<double>())
                : std::string{};
     }},
    {"leasehold_queue_started_per_second", "gauge",
     "Jobs a rate-limited queue started per second lately (over 10 s or more).",
     [](const nlohmann::json& q) { return number_field(q, "started_per_second"); }},
    {"leasehold_queue_rate_started_total", "counter",
     "Jobs a rate-limited queue started under its rate.",
     [](const nlohmann::json& q) {
       return q.contains("rate") && q["rate"].is_number() ? number_field(q, "rate_started") : std::string{};
     }},
  };
  for (const auto& g : gauges) {
    out += std::string{"# HELP "} + g.name + " " + g.help + "\n# TYPE " + g.name + " " + g.type
           + "\n";
    for (const auto& [queue, counts] : depth.items()) {
      auto v = g.value(counts);
      if (!v.empty())
        out += std::string{g.name} + "{queue=\"" + label_value(queue) + "\"} " + v + "\n";
    }
  }
  out += "# HELP leasehold_jobs_in_flight Attempts running on this node.\n"
         "# TYPE leasehold_jobs_in_flight gauge\nleasehold_jobs_in_flight "
         + std::to_string(s.in_flight) + "\n";
  out += counter_family(
    "leasehold_pruned_total",
    "Expired history deleted by this node's pruner, by kind (migration 025).", "kind",
    {{"succeeded", m.pruned_succeeded.load()}, {"dead", m.pruned_dead.load()},
     {"runs", m.pruned_runs.load()}, {"attempt_rows", m.pruned_attempts.load()},
     {"instances", m.pruned_instances.load()}, {"violations", m.pruned_violations.load()},
     {"unique_keys", m.pruned_unique_keys.load()}});
  out += counter("leasehold_prune_passes_total",
                 "Retention passes this node ran while elected.", m.prune_passes.load());
  out += counter("leasehold_cluster_nudges_total",
                 "Nudges from peers over cluster links (cancel, drain, pause seen at once).",
                 m.cluster_nudges.load());
  out += m.claim_seconds.render("leasehold_claim_duration_seconds",
                                "Time to claim a batch of jobs.");
  out += m.job_seconds.render("leasehold_job_duration_seconds",
                              "Time handlers took per attempt.");
  return out;
}

// A change recorded in Postgres that another node must act on: tell it
// over the cluster links now, so it does not wait for its next heartbeat
// or poll (it still would, with the links down).
void tell_peers(const cluster_actor& cluster, const observe_request& req,
                const std::string& answer) {
  if (req.what == "cancel") {
    auto change = nlohmann::json::parse(answer, nullptr, false);
    if (change.is_object() && change.value("changed", false) && change.contains("owner"))
      caf::anon_send(cluster, notify_atom::value, change["owner"].get<std::string>(),
                     std::string{"leases"});
  } else if (req.what == "drain" && answer == "true") {
    caf::anon_send(cluster, notify_atom::value, req.key, std::string{"leases"});
  } else if (req.what == "queue_pause" || req.what == "queue_resume") {
    caf::anon_send(cluster, notify_atom::value, std::string{}, std::string{"queues"});
  }
}

} // namespace


observer_actor::behavior_type
observer_actor_impl(self_ptr self, observer_config cfg, persistence_actor store,
                    supervisor_actor supervisor) {
  return {
    [=](health_atom) -> caf::result<std::string> {
      auto promise = self->make_response_promise<std::string>();
      observe_request req;
      req.what = "health";
      req.thresholds = cfg.thresholds;
      self->request(store, query_timeout, observe_atom::value, req)
        .then(
          [=](const std::string& text) mutable {
            auto health = nlohmann::json::parse(text);
            health["runtime_version"] = runtime_version();
            health["node"] = {{"worker_id", cfg.worker_id}};
            self->request(supervisor, query_timeout, stats_atom::value)
              .then(
                [=](const node_stats& s) mutable {
                  health["supervised_failures"] = s.supervised_failures;
                  health["node"]["in_flight"] = s.in_flight;
                  // After a revoked registration the node goes on under a
                  // fresh worker id: show which, and how often.
                  health["node"]["worker_id"] = s.worker_id;
                  health["node"]["reregistrations"] = s.reregistrations;
                  add_alerts(health, cfg.alerts);
                  promise.deliver(health.dump());
                },
                [=](caf::error& e) mutable { promise.deliver(e); });
          },
          [=](caf::error& e) mutable { promise.deliver(e); });
      return promise;
    },
    [=](metrics_atom) -> caf::result<std::string> {
      auto promise = self->make_response_promise<std::string>();
      observe_request req;
      req.what = "queue_depth";
      self->request(store, query_timeout, observe_atom::value, req)
        .then(
          [=](const std::string& depth) mutable {
            self->request(supervisor, query_timeout, stats_atom::value)
              .then(
                [=](const node_stats& s) mutable {
                  promise.deliver(
                    render_metrics(s, *cfg.metrics, nlohmann::json::parse(depth)));
                },
                [=](caf::error& e) mutable { promise.deliver(e); });
          },
          [=](caf::error& e) mutable { promise.deliver(e); });
      return promise;
    },
    [=](observe_atom, const observe_request& req) -> caf::result<std::string> {
      // The cluster view comes from the links, never from the database.
      if (req.what == "cluster") {
        if (!cfg.cluster)
          return std::string{"null"};
        return self->delegate(cfg.cluster, cluster_atom::value);
      }
      auto promise = self->make_response_promise<std::string>();
      self->request(store, query_timeout, observe_atom::value, req)
        .then(
          [=](const std::string& text) mutable {
            if (cfg.cluster)
              tell_peers(cfg.cluster, req, text);
            promise.deliver(text);
          },
          [=](caf::error& e) mutable { promise.deliver(e); });
      return promise;
    },
  };
}

} // namespace leasehold
