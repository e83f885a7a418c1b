// `leasehold cluster`: asks one node for the cluster view and prints it.
#include "runtime/cli_cluster.hpp"

#include <iomanip>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/cli_enqueue.hpp"
#include "runtime/cluster_client.hpp"
#include "runtime/duration.hpp"

namespace leasehold::cli {

namespace {

// The live nodes' endpoints, newest first.
std::vector<std::string> endpoints_from(const std::string& url) {
  store db{url};
  auto rows = nlohmann::json::parse(db.instances_json(false));
  std::vector<std::string> out;
  for (const auto& r : rows)
    if (r.value("endpoint", nlohmann::json{}).is_string())
      out.push_back(r["endpoint"].get<std::string>());
  return out;
}

std::string age(int64_t ms) {
  return format_duration(std::chrono::milliseconds{ms < 1000 ? ms : ms / 1000 * 1000});
}

void print_table(const nlohmann::json& c) {
  std::ostringstream out;
  out << std::left << std::setw(48) << "WORKER" << std::setw(10) << "VERSION" << std::setw(10)
      << "UPTIME" << std::setw(10) << "IN-FLIGHT" << std::setw(11) << "PREFETCHED"
      << std::setw(8) << "POOL" << std::setw(10) << "CLAIMS/S" << std::setw(8) << "DONE/S"
      << std::setw(7) << "LINKS" << "FAILURES\n";
  for (const auto& n : c["nodes"]) {
    auto worker = n.value("worker_id", "");
    if (!n.value("reachable", false)) {
      out << std::setw(48) << worker << "unreachable (" << n.value("state", "")
          << (n.value("reason", "").empty() ? "" : ": " + n.value("reason", "")) << ") at "
          << n.value("endpoint", "") << " for " << age(n.value("since_ms", int64_t{0}))
          << "\n";
      continue;
    }
    int up = 0, links = 0;
    for (const auto& l : n["links"]) {
      ++links;
      up += l.value("state", "") == "up";
    }
    std::string failures;
    for (const auto& [reason, count] : n["supervised_failures"].items())
      failures += (failures.empty() ? "" : " ") + reason + "=" + count.dump();
    std::ostringstream rate1, rate2;
    rate1 << std::fixed << std::setprecision(1) << n.value("claims_per_second", 0.0);
    rate2 << std::fixed << std::setprecision(1) << n.value("completions_per_second", 0.0);
    out << std::setw(48) << worker << std::setw(10) << n.value("version", "") << std::setw(10)
        << age(n.value("uptime_ms", int64_t{0})) << std::setw(10)
        << n.value("in_flight", 0) << std::setw(11) << n.value("prefetched", 0)
        << std::setw(8)
        << (std::to_string(n["pool"].value("busy", 0)) + "/"
            + std::to_string(n["pool"].value("size", 0)))
        << std::setw(10) << rate1.str() << std::setw(8) << rate2.str() << std::setw(7)
        << (std::to_string(up) + "/" + std::to_string(links))
        << (failures.empty() ? "-" : failures) << "\n";
    for (const auto& a : n["attempts"]) {
      out << "  job " << a.value("job_id", int64_t{0}) << " " << a.value("type", "")
          << " attempt " << a.value("attempt", 0) << ", running "
          << age(a.value("age_ms", int64_t{0})) << ", trace " << a.value("trace_id", "");
      if (a["progress"].is_object())
        out << ", progress " << a["progress"].value("value", 0.0) << " "
            << a["progress"].value("message", "");
      out << "\n";
    }
  }
  out << c.value("reachable", 0) << " reachable, " << c.value("unreachable", 0)
      << " unreachable; gathered by " << c.value("gathered_by", "") << " in "
      << c.value("took_ms", 0) << " ms\n";
  std::cout << out.str();
}

int run_cluster(const std::string& url, cluster_options& o) {
  o.settings.heartbeat = duration_option("cluster-heartbeat", o.heartbeat);
  auto timeout = duration_option("timeout", o.timeout);
  try {
    o.settings.listen = "127.0.0.1:0"; // checked as a client: never bound
    o.settings.validate();
    if (!o.node.empty())
      parse_cluster_endpoint(o.node, "--node");
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
  auto endpoints = o.node.empty() ? endpoints_from(url) : std::vector<std::string>{o.node};
  if (endpoints.empty())
    throw std::runtime_error("no live node records a cluster address (are their links off?)");
  cluster_client client{o.settings};
  std::string failures;
  for (const auto& e : endpoints) {
    try {
      auto text = client.cluster(parse_cluster_endpoint(e, "endpoint"), timeout);
      if (o.json)
        std::cout << text << "\n";
      else
        print_table(nlohmann::json::parse(text));
      return 0;
    } catch (const std::exception& err) {
      failures += std::string{failures.empty() ? "" : "; "} + err.what();
    }
  }
  throw std::runtime_error("no node answered: " + failures);
}

} // namespace

void add_cluster_tls_options(CLI::App& cmd, cluster_settings& s, std::string& heartbeat) {
  cmd.add_option("--cluster-cert", s.cert,
                 "PEM certificate: with --cluster-key and --cluster-ca, every cluster link"
                 " is mutual TLS");
  cmd.add_option("--cluster-key", s.key, "PEM private key of --cluster-cert");
  cmd.add_option("--cluster-ca", s.ca,
                 "PEM CA that signed every node's certificate (use a CA of its own:"
                 " any certificate it signed is let in)");
  cmd.add_option("--cluster-heartbeat", heartbeat,
                 "Link heartbeat; a peer silent for 3 of them is down (same on every node)")
    ->capture_default_str();
}

void add_cluster_command(CLI::App& app, const std::string& url, cluster_options& o,
                         std::function<int()>& run) {
  auto* cmd = app.add_subcommand(
    "cluster", "Every node's live state (in-flight jobs, pool, rates, links), over CAF");
  cmd->add_option("--node", o.node,
                  "A node's cluster address IP:PORT (default: the live nodes' addresses"
                  " from the database)");
  cmd->add_flag("--json", o.json, "Print the view as JSON");
  cmd->add_option("--timeout", o.timeout, "How long to wait for the answer")
    ->capture_default_str();
  add_cluster_tls_options(*cmd, o.settings, o.heartbeat);
  cmd->callback([&] { run = [&] { return run_cluster(url, o); }; });
}

} // namespace leasehold::cli
