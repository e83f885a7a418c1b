#include "tests/support/cluster_node.hpp"

#include <unistd.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/pg_fixture.hpp"

namespace leasehold::test {

std::vector<std::string> fault_node_args(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {
    leasehold_bin(), "node", "--heartbeat-interval", "300ms", "--lease-ttl", "1500ms",
    "--stale-after", "2500ms", "--reap-interval", "300ms", "--poll-interval", "100ms",
    "--retry-base", "50ms", "--stop-timeout", "5s", "--http-listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
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

std::string http_address(const background_process& node) {
  std::istringstream lines{node.log()};
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("msg", "") == "http listening")
      return j.value("address", "");
  }
  return "";
}

std::string node_health(const background_process& node) {
  auto address = http_address(node);
  if (address.empty())
    return "";
  return run({leasehold_bin(), "health", "--url", "http://" + address, "--json"}).out;
}

} // namespace leasehold::test
