#include "actors/reaper_actor.hpp"

#include <caf/all.hpp>

#include "runtime/log.hpp"

namespace leasehold {

reaper_actor::behavior_type
reaper_actor_impl(reaper_actor::stateful_pointer<reaper_state> self,
                  reaper_config cfg, persistence_actor store) {
  self->delayed_send(self, cfg.interval, tick_atom::value);
  rescue_request req{cfg.lease_ttl.count(), cfg.retry_base.count(),
                     cfg.retry_cap.count()};
  return {
    [=](tick_atom) {
      self->delayed_send(self, cfg.interval, tick_atom::value);
      if (self->state.sweeping)
        return;
      self->state.sweeping = true;
      self->request(store, cfg.interval, rescue_atom::value, req)
        .then(
          [=](const std::vector<int64_t>& ids) {
            self->state.sweeping = false;
            if (!ids.empty())
              log::warn("expired leases rescued", {{"job_ids", ids}});
          },
          [=](caf::error&) { self->state.sweeping = false; });
    },
  };
}

} // namespace leasehold
