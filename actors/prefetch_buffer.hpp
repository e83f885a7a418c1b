#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/job_types.hpp"

namespace leasehold {

/// How far a node claims ahead of its handlers.
struct prefetch_settings {
  /// Most jobs claimed ahead per queue, beyond its concurrency (0: none).
  int32_t limit = 0;
  /// The buffer holds about this much work at the rate slots free up (the
  /// rate attempts end), so a job waits in it for about this long, not for
  /// the buffer's full size: slow handlers get a small buffer (long ones
  /// none) and fast ones a large one (100ms). 0: always `limit`.
  std::chrono::milliseconds horizon{100};
  /// A job buffered longer than this is given back (1s): its queue's slots
  /// are all held by slower attempts, and other nodes may be idle.
  std::chrono::milliseconds max_hold{1000};
};

/// The jobs a node has claimed but not started, per queue, and the count of
/// attempts running. Plain data with no actor inside, kept by the
/// supervisor: claims put jobs in, a free slot takes the first one out.
/// Buffered jobs are real leases (renewed, fenced, rescued like any); one
/// that never starts is given back without consuming its attempt.
class prefetch_buffer {
public:
  using clock = std::chrono::steady_clock;

  prefetch_buffer(std::map<std::string, int32_t> concurrency, prefetch_settings s);

  /// A claimed job waits here until a slot of its queue is free.
  void add(claimed_job job, clock::time_point now);

  /// The next job of `queue` to start, when a slot is free: the lowest
  /// priority value first, then claim order (the claim's order is
  /// priority, run_at, id). Counts it as running and records how long it
  /// waited (buffered_ms).
  std::optional<claimed_job> start_next(const std::string& queue, clock::time_point now);

  /// An attempt of `queue` ended and its slot is free.
  void attempt_ended(const std::string& queue);
  /// Attempts of `queue` running now.
  int32_t running(const std::string& queue) const;

  /// Every buffered lease, for renewal.
  std::vector<lease_ref> leases() const;
  /// Removes a lost lease claimed at or before `claim_seq` (see
  /// claimed_job::claim_seq); its queue when it was buffered here.
  std::optional<std::string> drop(const lease_ref& lease, int64_t claim_seq);
  /// Removes every buffered job (a stop, a revoked registration).
  std::vector<claimed_job> take_all();
  /// Takes every buffered job of one queue (it was paused).
  std::vector<claimed_job> take_queue(const std::string& queue);
  /// Removes the jobs buffered longer than max_hold.
  std::vector<claimed_job> take_overdue(clock::time_point now);

  /// Jobs claimed ahead for `queue` right now: at most `limit`, about
  /// `horizon` of work at the recent rate attempts end.
  int32_t target(const std::string& queue) const;
  /// Updates each queue's rate from the attempts ended since the last call
  /// and returns the queues whose target changed, with the change.
  std::map<std::string, int32_t> retarget(clock::time_point now);

  size_t size() const;
  size_t size(const std::string& queue) const;
  const prefetch_settings& settings() const { return settings_; }

private:
  struct buffered_job {
    claimed_job job;
    clock::time_point since;
  };
  struct queue_state {
    int32_t concurrency = 0;
    int32_t running = 0;
    /// Buffered jobs by priority value, each in claim order.
    std::map<int32_t, std::deque<buffered_job>> waiting;
    size_t count = 0;
    /// Attempts ended since the last retarget, and their smoothed rate per
    /// second: the rate at which the buffer drains.
    int64_t ends = 0;
    double rate = 0;
    bool rated = false;
    int32_t target = 0;
  };

  prefetch_settings settings_;
  std::map<std::string, queue_state> queues_;
  clock::time_point last_retarget_;
};

} // namespace leasehold
