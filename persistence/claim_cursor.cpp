#include "persistence/claim_cursor.hpp"

namespace leasehold {

bool head_is_expensive(std::chrono::microseconds took, size_t rows) {
  // Updating a claimed row costs ~25 us here; 50 us a row leaves room for a
  // loaded machine. A vacuumed head costs well under the 5 ms base; 120k
  // dead entries (a minute of 2,000 jobs/s under a pinned xmin) cost ~30 ms.
  const auto allowance = std::chrono::microseconds{5000}
                         + std::chrono::microseconds{50} * static_cast<int64_t>(rows);
  return took > allowance;
}

std::optional<claim_key> claim_cursors::start(const std::string& queue,
                                              clock::time_point now) {
  auto& q = queues_[queue];
  if (q.key && now - q.set_at > max_age_)
    q.key.reset();
  return q.key;
}

void claim_cursors::claimed(const std::string& queue, size_t rows, int32_t limit,
                            const std::optional<claim_key>& last, bool from_head,
                            std::chrono::microseconds took, clock::time_point now) {
  auto& q = queues_[queue];
  // A connection's first claim of a queue also plans the statement and
  // compiles its functions (~5 ms): that is not the head's cost.
  if (from_head && q.timed_once)
    q.head_expensive = head_is_expensive(took, rows);
  q.timed_once = true;
  const bool full = limit > 0 && rows == static_cast<size_t>(limit);
  // A full batch: more jobs may wait past its last one, start there. A
  // short one may have missed only jobs that sort before the cursor: start
  // from the head again, unless walking it is what costs.
  if (!full && !q.head_expensive) {
    q.key.reset();
    return;
  }
  if (rows == 0 || !last)
    return; // nothing new: the cursor (if any) stays where it was
  if (!q.key)
    q.set_at = now; // its age counts from the head
  q.key = last;
}

} // namespace leasehold
