#include "actors/pruner_actor.hpp"

#include <caf/all.hpp>

#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace leasehold {

namespace {

using self_ptr = pruner_actor::stateful_pointer<pruner_state>;

void count(const pruner_config& cfg, const prune_report& r) {
  if (!cfg.metrics)
    return;
  auto& m = *cfg.metrics;
  m.pruned_succeeded += r.succeeded;
  m.pruned_dead += r.dead;
  m.pruned_runs += r.runs;
  m.pruned_attempts += r.attempts;
  m.pruned_instances += r.instances;
  m.pruned_violations += r.violations;
  m.pruned_unique_keys += r.unique_keys;
  ++m.prune_passes;
}

void on_report(self_ptr self, const pruner_config& cfg, const prune_report& r) {
  if (self->state.failing)
    log::info("pruning works again");
  self->state.failing = false;
  if (!r.elected) {
    log::debug("another node is pruning; skipped this pass");
  } else {
    count(cfg, r);
    const bool pruned = r.succeeded + r.dead + r.runs + r.attempts + r.instances
                          + r.violations + r.unique_keys > 0;
    // Every pass is logged; one that found nothing expired only at debug.
    (pruned ? log::info : log::debug)(
      "retention pass",
      {{"succeeded", r.succeeded}, {"dead", r.dead}, {"runs", r.runs},
       {"attempt_rows", r.attempts}, {"instances", r.instances},
       {"violations", r.violations}, {"unique_keys", r.unique_keys},
       {"batches", r.batches},
       {"took_ms", r.took_ms}, {"more", r.more}});
  }
  if (r.elected && r.more)
    self->send(self, tick_atom::value); // the rest at once
  else
    self->delayed_send(self, cfg.interval, tick_atom::value);
}

} // namespace

pruner_actor::behavior_type
pruner_actor_impl(self_ptr self, pruner_config cfg, persistence_actor store) {
  // The first pass after one interval: a node that starts and stops at
  // once (tests, crash loops) does not prune on every start.
  self->delayed_send(self, cfg.interval, tick_atom::value);
  return {
    [=](tick_atom) {
      // A pass outlives its budget by at most one batch; past that plus a
      // margin it counts as failed (its batches committed stay committed).
      auto wait = std::chrono::milliseconds{cfg.policy.budget_ms} + std::chrono::seconds{60};
      self->request(store, wait, prune_atom::value, cfg.policy, false)
        .then([=](const prune_report& r) { on_report(self, cfg, r); },
              [=](caf::error& err) {
                if (!self->state.failing)
                  log::warn("retention pass failed; trying again next interval",
                            {{"error", self->system().render(err)}});
                self->state.failing = true;
                self->delayed_send(self, cfg.interval, tick_atom::value);
              });
    },
  };
}

} // namespace leasehold
