#pragma once

#include <chrono>
#include <memory>

#include "messages/protocols.hpp"

namespace leasehold {

struct node_metrics;

/// Settings of the pruner actor.
struct pruner_config {
  /// Time between passes (1min; 0: no pruner). A pass that stopped at its
  /// budget with more to do is followed at once.
  std::chrono::milliseconds interval{60000};
  /// What is kept, for how long, and each pass's batch size and budget.
  retention_policy policy;
  /// Where pruned counts are added up for /metrics (may be null).
  std::shared_ptr<node_metrics> metrics;
};

/// Deletes expired history (migration 025) through its own persistence
/// actor, so pruning never waits in line with claims or completions. Every
/// node runs one; each pass first takes a database lock, so one node prunes
/// at a time and the others skip that pass.
//
//   idle --tick--> pruning --report, more--> pruning
//                          --report, done / not elected / failed--> idle
//                             (next tick after the interval)
struct pruner_state {
  static inline const char* name = "pruner";
  bool failing = false; // the last pass failed (warn once, not every pass)
};

pruner_actor::behavior_type
pruner_actor_impl(pruner_actor::stateful_pointer<pruner_state> self,
                  pruner_config cfg, persistence_actor store);

} // namespace leasehold
