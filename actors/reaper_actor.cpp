#include "actors/reaper_actor.hpp"

#include <caf/all.hpp>

#include "runtime/log.hpp"

namespace leasehold {

reaper_actor::behavior_type
reaper_actor_impl(reaper_actor::stateful_pointer<reaper_state> self,
                  reaper_config cfg, persistence_actor store) {
  self->delayed_send(self, cfg.interval, tick_atom::value);
  rescue_request req{cfg.lease_ttl.count(), cfg.retry_base.count(),
                     cfg.retry_cap.count(), cfg.stale_after.count(),
                     cfg.stop_timeout.count()};
  return {
    [=](tick_atom) {
      self->delayed_send(self, cfg.interval, tick_atom::value);
      if (self->state.sweeping)
        return;
      self->state.sweeping = true;
      self->request(store, cfg.interval, rescue_atom::value, req)
        .then(
          [=](const rescue_reply& reply) {
            self->state.sweeping = false;
            if (!reply.instances.empty())
              log::warn("silent instances marked STOPPED",
                        {{"worker_ids", reply.instances}});
            if (!reply.jobs.empty())
              log::warn("expired leases rescued", {{"job_ids", reply.jobs}});
          },
          [=](caf::error&) { self->state.sweeping = false; });
    },
  };
}

} // namespace leasehold
