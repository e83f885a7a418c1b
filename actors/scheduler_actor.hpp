#pragma once

#include <chrono>

#include "messages/protocols.hpp"

namespace leasehold {

/// Settings of the scheduler actor.
struct scheduler_config {
  /// Time between passes over the due schedules (500ms; 0: no scheduler).
  std::chrono::milliseconds interval{500};
  /// A tick found later than this counts as missed, for the catch-up
  /// policy "none" (5s: a few passes, not an outage).
  std::chrono::milliseconds on_time{5000};
};

/// Enqueues the ticks of due schedules (migration 018). Every node runs one;
/// each due schedule is taken by one of them under its row lock, so a tick
/// is enqueued once however many nodes run.
struct scheduler_state {
  static inline const char* name = "scheduler";
  bool passing = false;
  bool failing = false; // the last pass failed (warn once, not every pass)
};

scheduler_actor::behavior_type
scheduler_actor_impl(scheduler_actor::stateful_pointer<scheduler_state> self,
                     scheduler_config cfg, persistence_actor store);

} // namespace leasehold
