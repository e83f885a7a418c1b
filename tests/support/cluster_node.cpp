#include "tests/support/cluster_node.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/pg_fixture.hpp"

namespace leasehold::test {

std::vector<std::string> node_args_over(std::vector<std::pair<std::string, std::string>> defaults,
                                        const std::vector<std::string>& extra) {
  std::vector<std::string> args = {leasehold_bin(), "node"};
  // A flag of `extra` with a default replaces it: the CLI takes each once.
  for (size_t i = 0; i < extra.size(); ++i) {
    auto same = [&](const auto& d) { return d.first == extra[i]; };
    auto it = std::find_if(defaults.begin(), defaults.end(), same);
    if (it != defaults.end() && i + 1 < extra.size())
      it->second = extra[++i];
    else
      args.push_back(extra[i]);
  }
  for (const auto& [flag, value] : defaults) {
    args.push_back(flag);
    args.push_back(value);
  }
  return args;
}

std::vector<std::string> fault_node_args(const std::vector<std::string>& extra) {
  return node_args_over(
    {{"--heartbeat-interval", "300ms"}, {"--lease-ttl", "1500ms"}, {"--stale-after", "2500ms"},
     {"--reap-interval", "300ms"}, {"--poll-interval", "100ms"}, {"--retry-base", "50ms"},
     {"--stop-timeout", "5s"}, {"--http-listen", "127.0.0.1:0"}},
    extra);
}

std::unique_ptr<background_process> start_node(const std::vector<std::string>& extra,
                                               const std::string& database_url) {
  static int counter = 0;
  return std::make_unique<background_process>(
    fault_node_args(extra),
    "/tmp/leasehold-node-" + std::to_string(getpid()) + "-" + std::to_string(++counter)
      + ".log",
    std::map<std::string, std::string>{
      {"DATABASE_URL", database_url.empty() ? test_dsn() : database_url}});
}

std::string fresh_value(const std::string& sql) {
  try {
    return store{test_dsn()}.query_value(sql).value_or("");
  } catch (const std::exception&) {
    return "";
  }
}

int64_t fresh_count(const std::string& sql) {
  auto v = fresh_value(sql);
  return v.empty() ? -1 : std::stoll(v);
}

void enqueue_sleeps(store& db, int n, int ms, const std::string& type) {
  std::vector<new_job> jobs(static_cast<size_t>(n));
  for (auto& j : jobs) {
    j.type = type;
    j.payload = R"({"ms":)" + std::to_string(ms) + "}";
  }
  db.enqueue_many(jobs);
}

std::string logged_address(const background_process& node, const std::string& msg) {
  std::istringstream lines{node.log()};
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("msg", "") == msg)
      return j.value("address", "");
  }
  return "";
}

std::string http_address(const background_process& node) {
  return logged_address(node, "http listening");
}

std::string cluster_address(const background_process& node) {
  return logged_address(node, "cluster listening");
}

std::string worker_of(const background_process& node) {
  return fresh_value("SELECT worker_id FROM leasehold.worker_instances WHERE pid = "
                     + std::to_string(node.pid()) + " AND status <> 'STOPPED'");
}

nlohmann::json cluster_of(const background_process& node, long* took_ms) {
  auto address = http_address(node);
  if (address.empty())
    return nullptr;
  httplib::Client http{"127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1))};
  http.set_read_timeout(5, 0);
  auto began = std::chrono::steady_clock::now();
  auto res = http.Get("/cluster");
  if (took_ms)
    *took_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - began).count());
  if (!res || res->status != 200)
    return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

std::string node_health(const background_process& node) {
  auto address = http_address(node);
  if (address.empty())
    return "";
  return run({leasehold_bin(), "health", "--url", "http://" + address, "--json"}).out;
}

int log_lines(const background_process& node, const std::string& msg) {
  auto log = node.log();
  int n = 0;
  for (size_t at = 0; (at = log.find("\"msg\":\"" + msg + "\"", at)) != std::string::npos; ++at)
    ++n;
  return n;
}

isolated_node::isolated_node(const std::vector<std::string>& extra,
                             const std::string& socket_dir, uint16_t pg_port) {
  // Root enters the namespace as itself (a user namespace would lose its
  // access to the postgres-owned socket directory); anyone else needs one.
  bool root = geteuid() == 0;
  std::vector<std::string> unshare = {"/usr/bin/unshare", "--net"};
  if (!root)
    unshare.insert(unshare.begin() + 1, {"--user", "--map-root-user"});
  unshare.insert(unshare.end(),
                 {"/bin/sh", "-c",
                  "ip link set lo up && exec \"$0\" --target \"$1\" --listen 6543"
                  " --control 6544",
                  fault_proxy_bin(), socket_dir + ":" + std::to_string(pg_port)});
  auto logs = "/tmp/leasehold-isolated-" + std::to_string(getpid()) + "-";
  relay_ = std::make_unique<background_process>(unshare, logs + "relay.log");
  if (!wait_until([&] { return relay_->log().find("listening") != std::string::npos; },
                  std::chrono::seconds{5}))
    throw std::runtime_error("relay in a network namespace did not start: " + relay_->log());
  auto pid = std::to_string(relay_->pid());
  enter_ = {"/usr/bin/nsenter", "--net=/proc/" + pid + "/ns/net"};
  if (!root)
    enter_ = {"/usr/bin/nsenter", "--preserve-credentials", "-U", "-n", "-t", pid};
  auto argv = enter_;
  for (auto& a : fault_node_args(extra))
    argv.push_back(a);
  node_ = std::make_unique<background_process>(
    argv, logs + "node.log",
    std::map<std::string, std::string>{{"DATABASE_URL", dsn_with_port(test_dsn(), 6543)}});
}

void isolated_node::tc(const std::vector<std::string>& args) {
  auto argv = enter_;
  argv.push_back("/sbin/tc");
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  if (r.exit_code != 0)
    throw std::runtime_error("tc failed: " + r.err);
}

// The blackhole qdisc drops every packet sent on the namespace's loopback.
void isolated_node::cut() { tc({"qdisc", "add", "dev", "lo", "root", "blackhole"}); }
void isolated_node::heal() { tc({"qdisc", "del", "dev", "lo", "root"}); }

} // namespace leasehold::test
