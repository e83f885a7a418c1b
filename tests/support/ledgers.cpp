#include "tests/support/ledgers.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

namespace leasehold::test {

std::vector<ledger_event> read_ledgers(const std::vector<std::string>& paths) {
  std::vector<ledger_event> events;
  for (const auto& path : paths) {
    std::ifstream in{path};
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("at_ms"))
        continue;
      events.push_back({j.value("job", int64_t{0}), j["at_ms"].get<int64_t>(),
                        j["event"] == "start" ? 1 : -1});
    }
  }
  std::sort(events.begin(), events.end(), [](const ledger_event& a, const ledger_event& b) {
    return a.at_ms != b.at_ms ? a.at_ms < b.at_ms : a.delta < b.delta;
  });
  return events;
}

int max_overlap(const std::vector<ledger_event>& events,
                const std::function<bool(const ledger_event&)>& counted) {
  int now = 0, most = 0;
  for (const auto& e : events)
    if (!counted || counted(e))
      most = std::max(most, now += e.delta);
  return most;
}

std::vector<std::string> ledger_paths(const std::string& tag, int n) {
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i) {
    paths.push_back("/tmp/leasehold-" + tag + "-" + std::to_string(::getpid()) + "-"
                    + std::to_string(i) + ".jsonl");
    ::unlink(paths.back().c_str());
  }
  return paths;
}

nodes_run run_nodes(const std::string& tag, int n, const std::vector<std::string>& args,
                    const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto ledgers = ledger_paths(tag, n);
  std::vector<std::unique_ptr<background_process>> nodes;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& ledger : ledgers) {
    auto argv = args;
    argv.insert(argv.end(), {"--execution-ledger", ledger});
    nodes.push_back(start_node(argv));
  }
  nodes_run out;
  out.done = wait_until(done, timeout);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& node : nodes)
    node->signal(SIGTERM);
  for (auto& node : nodes)
    BOOST_TEST(node->wait(15000) == 0);
  out.events = read_ledgers(ledgers);
  for (const auto& l : ledgers)
    ::unlink(l.c_str());
  return out;
}

} // namespace leasehold::test
