#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "messages/job_types.hpp"

/// Where handlers' progress reports wait for the node's next heartbeat. A
/// handler may report as often as it likes; only the latest report of each
/// attempt is kept, and the heartbeat takes them all at once, so each job's
/// progress is written at most once per heartbeat, with the lease renewal.
/// Thread-safe: handlers report from the handler pool's threads.
namespace leasehold {

class progress_board {
public:
  /// Keeps `value` and `message` as the attempt's latest progress. A value
  /// that JSON cannot hold (NaN, infinity) is ignored; the message is cut
  /// to defaults::max_progress_message_bytes of valid UTF-8.
  void report(const lease_ref& lease, double value, const std::string& message);

  /// Every attempt's latest report made since the last call.
  std::vector<progress_report> take_all();

  /// The attempt's latest report, if it made any, which is forgotten: its
  /// outcome carries it, so the attempt's run row keeps its last figure
  /// whether or not a heartbeat has written it.
  std::optional<progress_report> take(const lease_ref& lease);

  /// The attempt's latest report, if any, left in place (the cluster view).
  std::optional<progress_report> peek(const lease_ref& lease);

private:
  struct entry {
    progress_report latest;
    bool unwritten = true; // not taken by take_all() yet
  };
  std::mutex mtx_;
  std::map<std::pair<int64_t, int32_t>, entry> reports_;
};

} // namespace leasehold
