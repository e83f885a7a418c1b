#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "messages/protocols.hpp"

namespace leasehold {

struct node_metrics;

/// Settings of the lease actor.
struct lease_config {
  /// Queues served and the jobs each may hold at once: its concurrency plus
  /// the jobs claimed ahead of its handlers ({"default": 10}).
  std::map<std::string, int32_t> queues;
  /// The job types this node has handlers for: the only ones it claims.
  std::vector<std::string> types;
  /// Jobs already held (running or claimed ahead) per queue when the actor
  /// (re)starts.
  std::map<std::string, int32_t> in_flight;
  /// Fallback poll when no NOTIFY arrives (1s).
  std::chrono::milliseconds poll_interval{1000};
  /// While a queue's jobs run, a claim waits until a quarter of its slots
  /// are free, or at most this long (2ms), so slots freed one by one are
  /// filled by one claim instead of many small ones.
  std::chrono::milliseconds claim_coalesce{2};
  /// How long a claim waits for the store's reply (30s). A claim answered
  /// later is not lost: the node's renewals give its jobs back.
  std::chrono::milliseconds claim_timeout{30000};
  /// How soon a limited queue is claimed from again after a claim that got
  /// fewer jobs than it asked for: places free up on other nodes unannounced.
  std::chrono::milliseconds limited_retry{50};
  /// Where claim latencies are recorded (may be null).
  std::shared_ptr<node_metrics> metrics;
};

/// Claims due jobs up to the node's free capacity, one statement per queue,
/// and hands them to the supervisor. Woken by NOTIFY, by a freed slot, and
/// by a poll tick as fallback. Skips paused queues, and tells the supervisor
/// which queues are paused whenever that changes.
//
//   claiming --stop--> stopped (claims nothing more)
struct lease_state {
  static inline const char* name = "lease";
  /// Jobs each queue may hold; moves with the prefetch target.
  std::map<std::string, int32_t> capacity;
  std::map<std::string, int32_t> free;
  std::set<std::string> claiming; // a claim is in flight for these queues
  std::set<std::string> recheck;  // woken while claiming: look again after
  /// Queues whose claim waits for more free slots, since when.
  std::map<std::string, std::chrono::steady_clock::time_point> deferred_since;
  bool stopped = false;
  bool store_down = false; // to log an outage once, not every tick
  /// Paused queues (migration 021): not claimed from. Read each tick and
  /// on NOTIFY leasehold_control; the claim statement refuses them anyway.
  std::set<std::string> paused;
  bool reading_paused = false;
  bool reread_paused = false; // told of a change while reading: read again
  /// Queues with a cluster-wide concurrency limit, and those whose next
  /// look (cfg.limited_retry) is already scheduled.
  std::set<std::string> limited;
  std::set<std::string> limited_retry;
};

/// The claim policy: true when a queue with `free` of `capacity` slots
/// should wait for more slots, having waited `waited` so far.
bool claim_should_wait(int32_t capacity, int32_t free,
                       std::chrono::steady_clock::duration waited,
                       std::chrono::milliseconds coalesce);

lease_actor::behavior_type
lease_actor_impl(lease_actor::stateful_pointer<lease_state> self,
                 lease_config cfg, persistence_actor store,
                 supervisor_actor supervisor);

} // namespace leasehold
