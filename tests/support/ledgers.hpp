#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

/// Execution ledgers (`leasehold node --execution-ledger F`) read back: when
/// each handler started and returned, on every node.
namespace leasehold::test {

struct ledger_event {
  int64_t job = 0;
  int64_t at_ms = 0;
  int delta = 0; // +1 a handler started, -1 it returned
};

/// Every event of every ledger, in time order; at the same millisecond an
/// end comes before a start (the next start waits for the ended attempt's
/// completion to be written, which comes after its end).
std::vector<ledger_event> read_ledgers(const std::vector<std::string>& paths);

/// The most handlers running at once among the events `counted` accepts.
int max_overlap(const std::vector<ledger_event>& events,
                const std::function<bool(const ledger_event&)>& counted = {});

/// Fresh ledger paths /tmp/leasehold-<tag>-<pid>-<i>.jsonl (old ones removed).
std::vector<std::string> ledger_paths(const std::string& tag, int n);

/// What `run_nodes` saw: every ledger's events, and the seconds from the
/// first node's start to `done`.
struct nodes_run {
  std::vector<ledger_event> events;
  double seconds = 0;
  bool done = false;
};

/// Starts `n` node processes (start_node with `args`, each with a ledger of
/// its own), polls `done` (which may sample the database too) until it
/// holds or `timeout` passes, stops them with SIGTERM (each must exit 0),
/// and reads their ledgers back (then removes them).
nodes_run run_nodes(const std::string& tag, int n, const std::vector<std::string>& args,
                    const std::function<bool()>& done, std::chrono::seconds timeout);

} // namespace leasehold::test
