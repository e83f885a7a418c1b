// health, dead-jobs and chain: from the database or a node's HTTP bridge.
#include "runtime/cli_observe.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "runtime/cli_enqueue.hpp"
#include "runtime/health.hpp"
#include "runtime/version.hpp"

namespace leasehold::cli {

namespace {

// --url as http(s)://HOST[:PORT][/], checked by hand: httplib parses it
// with a std::regex whose recursion a 100 KB argument overflows (SIGSEGV).
void check_node_url(const std::string& url) {
  auto fail = [&] {
    return usage_error("--url '" + url.substr(0, 60) + (url.size() > 60 ? "...'" : "'")
                       + ": expected http://HOST:PORT, e.g. http://127.0.0.1:8080");
  };
  auto rest = url.rfind("http://", 0) == 0 ? url.substr(7)
              : url.rfind("https://", 0) == 0 ? url.substr(8) : std::string{};
  if (rest.empty() || rest.size() > 260)
    throw fail();
  if (rest.back() == '/')
    rest.pop_back();
  auto colon = rest.rfind(':');
  auto host = rest.substr(0, colon);
  auto port = colon == std::string::npos ? std::string{"80"} : rest.substr(colon + 1);
  bool host_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '['
           || c == ']' || c == ':'; // [::1]
  });
  bool port_ok = !port.empty() && port.size() <= 5
                 && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })
                 && std::stoi(port) <= 65535;
  if (!host_ok || !port_ok)
    throw fail();
}

// GET path from a node's HTTP bridge; the body must be JSON.
nlohmann::json http_get(const std::string& base, const std::string& path) {
  check_node_url(base);
  httplib::Client client{base};
  client.set_connection_timeout(5);
  client.set_read_timeout(15);
  // A node with --http-read-token wants it (or the write token) on reads.
  httplib::Headers headers;
  for (const char* name : {"LEASEHOLD_HTTP_READ_TOKEN", "LEASEHOLD_HTTP_TOKEN"})
    if (const char* t = std::getenv(name); t && *t && headers.empty())
      headers.emplace("Authorization", std::string{"Bearer "} + t);
  auto res = client.Get(path.c_str(), headers);
  if (!res)
    throw usage_error("cannot reach " + base + ": " + httplib::to_string(res.error()));
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200)
    throw usage_error(base + path + ": HTTP " + std::to_string(res->status) + " "
                      + (body.is_object() ? body.value("error", "") : ""));
  return body;
}

std::string query_string(const observe_options& o) {
  std::string q = "?limit=" + std::to_string(o.filter.limit)
                  + "&since_hours=" + std::to_string(o.filter.since_hours);
  if (!o.type.empty())
    q += "&type=" + httplib::detail::encode_query_param(o.type);
  if (!o.correlation_id.empty())
    q += "&correlation_id=" + httplib::detail::encode_query_param(o.correlation_id);
  return q;
}

void print_health(const nlohmann::json& h) {
  std::printf("status: %s   version: %s\n", h["status"].get<std::string>().c_str(),
              h["runtime_version"].get<std::string>().c_str());
  for (const auto& a : h["alerts"])
    std::printf("  %-8s %-18s %s\n", a["severity"].get<std::string>().c_str(),
                a["code"].get<std::string>().c_str(),
                a["message"].get<std::string>().c_str());
  std::printf("queued %s %s | running %s (avg age %ss) | stuck %s | dead 24h %s"
              " | lag %ss | policy violations 24h %s\n",
              h["jobs_queued"]["total"].dump().c_str(),
              h["jobs_queued"]["by_type"].dump().c_str(),
              h["jobs_processing"]["count"].dump().c_str(),
              h["jobs_processing"]["avg_age_seconds"].dump().c_str(),
              h["stuck_count"].dump().c_str(), h["dead_last_24h"].dump().c_str(),
              h["estimated_lag_seconds"].dump().c_str(),
              h["policy_violations_last_24h"].dump().c_str());
  const auto& w = h["workers"];
  std::printf("workers: active %s, stale %s, hung stopping %s, versions %s\n",
              w["active"].dump().c_str(), w["stale"].dump().c_str(),
              w["hung_stopping"].dump().c_str(), w["versions"].dump().c_str());
  if (h.contains("supervised_failures"))
    std::printf("supervised failures on this node: %s\n",
                h["supervised_failures"].dump().c_str());
}

int run_health(const std::string& url, const observe_options& o) {
  nlohmann::json h;
  if (!o.node_url.empty()) {
    h = http_get(o.node_url, "/health");
  } else {
    store db{url};
    observe_thresholds t{duration_option("lease-ttl", o.lease_ttl).count(),
                         duration_option("stale-after", o.stale).count(),
                         duration_option("stop-timeout", o.stop).count()};
    h = nlohmann::json::parse(db.health_json(t));
    h["runtime_version"] = runtime_version();
    alert_thresholds a;
    a.lag_critical_seconds = duration_option("alert-lag", o.alert_lag).count() / 1000;
    a.dead_warning = o.alert_dead;
    add_alerts(h, a);
  }
  if (o.json)
    std::cout << h.dump(2) << "\n";
  else
    print_health(h);
  return h["status"] == "critical" ? 2 : 0;
}

int run_dead_jobs(const std::string& url, observe_options o) {
  if (o.filter.limit < 1 || o.filter.limit > 1000)
    throw usage_error("--limit must be from 1 to 1000");
  if (o.filter.since_hours < 1 || o.filter.since_hours > 24 * 366)
    throw usage_error("--since-hours must be from 1 to 8784");
  nlohmann::json d;
  if (!o.node_url.empty()) {
    d = http_get(o.node_url, "/dead-jobs" + query_string(o));
  } else {
    if (!o.type.empty())
      o.filter.type = o.type;
    if (!o.correlation_id.empty())
      o.filter.correlation_id = o.correlation_id;
    store db{url};
    d = nlohmann::json::parse(db.dead_jobs_json(o.filter));
  }
  std::cout << d.dump(2) << "\n";
  return 0;
}

int run_chain(const std::string& url, const observe_options& o) {
  nlohmann::json c;
  if (!o.node_url.empty())
    c = http_get(o.node_url, "/jobs?correlation_id="
                               + httplib::detail::encode_query_param(o.correlation_id));
  else
    c = nlohmann::json::parse(store{url}.chain_json(o.correlation_id));
  if (c.empty())
    throw usage_error("no jobs with correlation id " + o.correlation_id);
  std::cout << c.dump(2) << "\n";
  return 0;
}

} // namespace

void add_observe_commands(CLI::App& app, const std::string& url, observe_options& o,
                          std::function<int()>& run) {
  auto* h = app.add_subcommand("health", "What is broken and where: figures and alerts"
                                         " (exit 2 when critical)");
  h->add_option("--url", o.node_url, "Ask a node's HTTP bridge, e.g. http://127.0.0.1:8080");
  h->add_flag("--json", o.json, "Print the JSON document");
  h->add_option("--lease-ttl", o.lease_ttl, "Lease TTL the stuck count uses")->capture_default_str();
  h->add_option("--stale-after", o.stale, "Silence after which a worker is stale")->capture_default_str();
  h->add_option("--stop-timeout", o.stop, "STOPPING longer than this is hung")->capture_default_str();
  h->add_option("--alert-lag", o.alert_lag, "Critical queue lag")->capture_default_str();
  h->add_option("--alert-dead", o.alert_dead, "Dead jobs in 24h above which to warn")->capture_default_str();
  h->callback([&] { run = [&] { return run_health(url, o); }; });

  auto* d = app.add_subcommand("dead-jobs", "Dead jobs with reasons, newest first (JSON)");
  d->add_option("--url", o.node_url, "Ask a node's HTTP bridge");
  d->add_option("--limit", o.filter.limit, "At most this many jobs (1..1000)")->capture_default_str();
  d->add_option("--since-hours", o.filter.since_hours, "Died within this many hours")->capture_default_str();
  d->add_option("--type", o.type, "Only this job type");
  d->add_option("--correlation-id", o.correlation_id, "Only this chain");
  d->callback([&] { run = [&] { return run_dead_jobs(url, o); }; });

  auto* c = app.add_subcommand("chain", "Every job of a correlation id, in order, with runs");
  c->add_option("correlation_id", o.correlation_id, "Correlation id")->required();
  c->add_option("--url", o.node_url, "Ask a node's HTTP bridge");
  c->callback([&] { run = [&] { return run_chain(url, o); }; });
}

} // namespace leasehold::cli
