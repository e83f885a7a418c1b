#include "tests/support/ledgers.hpp"

#include <algorithm>
#include <fstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

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

} // namespace leasehold::test
