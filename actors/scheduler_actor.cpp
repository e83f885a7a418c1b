#include "actors/scheduler_actor.hpp"

#include <caf/all.hpp>

#include "runtime/log.hpp"

namespace leasehold {

scheduler_actor::behavior_type
scheduler_actor_impl(scheduler_actor::stateful_pointer<scheduler_state> self,
                     scheduler_config cfg, persistence_actor store) {
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      self->delayed_send(self, cfg.interval, tick_atom::value);
      if (self->state.passing)
        return;
      self->state.passing = true;
      // A pass that outlives ten intervals is treated as failed; its
      // transaction still decides what was enqueued.
      self->request(store, cfg.interval * 10 + std::chrono::seconds{5}, schedule_atom::value,
                    static_cast<int64_t>(cfg.on_time.count()))
        .then(
          [=](int64_t enqueued) {
            self->state.passing = false;
            if (self->state.failing)
              log::info("schedules are enqueued again");
            self->state.failing = false;
            if (enqueued > 0)
              log::debug("schedule ticks enqueued", {{"count", enqueued}});
          },
          [=](caf::error& err) {
            self->state.passing = false;
            if (!self->state.failing)
              log::warn("schedule pass failed; trying again",
                        {{"error", self->system().render(err)}});
            self->state.failing = true;
          });
    },
  };
}

} // namespace leasehold
