#pragma once

// Where a connection's next claim of a queue starts (see job_claim.sql).
// Claimed jobs leave dead entries at the head of the claim index until
// VACUUM removes them; a claim that starts past them does not walk them.
// A claim starts from the head again (and so finds a job that sorts before
// the cursor: a higher priority, a run_at now due) after a short batch, and
// at the latest when the cursor is `max_age` old. When the head is
// expensive to walk (VACUUM cannot clean it: a session pins the xmin
// horizon), a short batch keeps the cursor, so the head is walked at most
// once per max_age instead of by every claim.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace leasehold {

/// The sort key (priority, run_at, id) of a claimed job, as Postgres wrote it.
struct claim_key {
  std::string priority, run_at, id;
};

/// True when a claim from the head that returned `rows` jobs in `took` says
/// the head is full of entries the claim had to walk: more than a few ms
/// beyond what updating its rows costs.
bool head_is_expensive(std::chrono::microseconds took, size_t rows);

class claim_cursors {
public:
  using clock = std::chrono::steady_clock;

  /// Where the next claim of `queue` starts: nullopt for the head.
  std::optional<claim_key> start(const std::string& queue, clock::time_point now);

  /// Records a claim of `queue` that asked for `limit` jobs and got `rows`
  /// of them, the last being `last` (when rows > 0), started from the head
  /// or not, in `took`.
  void claimed(const std::string& queue, size_t rows, int32_t limit,
               const std::optional<claim_key>& last, bool from_head,
               std::chrono::microseconds took, clock::time_point now);

  void set_max_age(std::chrono::milliseconds age) { max_age_ = age; }

private:
  struct queue_state {
    std::optional<claim_key> key; // nullopt: start from the head
    clock::time_point set_at;     // when it last left the head
    bool head_expensive = false;
    bool timed_once = false;      // the first claim also plans and compiles: not timed  // the last walk from the head was
  };
  std::unordered_map<std::string, queue_state> queues_;
  std::chrono::milliseconds max_age_{500};
};

} // namespace leasehold
