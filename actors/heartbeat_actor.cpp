#include "actors/heartbeat_actor.hpp"

#include <caf/all.hpp>

#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/progress_board.hpp"

namespace leasehold {

namespace {

using self_ptr = heartbeat_actor::stateful_pointer<heartbeat_state>;

void renew(self_ptr self, const heartbeat_config& cfg, persistence_actor store,
           supervisor_actor supervisor);

// A renewal ended: one asked for meanwhile starts now.
void renewed(self_ptr self, const heartbeat_config& cfg, persistence_actor store,
             supervisor_actor supervisor) {
  self->state.renewing = false;
  if (self->state.again) {
    self->state.again = false;
    renew(self, cfg, store, supervisor);
  }
}

void renew(self_ptr self, const heartbeat_config& cfg, persistence_actor store,
           supervisor_actor supervisor) {
  self->state.renewing = true;
  auto on_error = [=](caf::error& err) {
    renewed(self, cfg, store, supervisor);
    // Not a loss: the store is unreachable. Each guarded write still decides.
    log::warn("lease renewal failed", {{"error", self->system().render(err)}});
  };
  self->request(supervisor, cfg.interval, leases_atom::value)
    .then(
      [=](std::vector<lease_ref>& leases) {
        // Also with no leases: the instance row needs its heartbeat too.
        auto count = static_cast<int64_t>(leases.size());
        // Each attempt's latest report since the last tick: at most one
        // progress write per job and heartbeat.
        auto progress = cfg.progress ? cfg.progress->take_all()
                                     : std::vector<progress_report>{};
        self->request(store, cfg.interval, renew_atom::value, std::move(leases),
                      std::move(progress))
          .then(
            [=](renew_reply& reply) {
              renewed(self, cfg, store, supervisor);
              auto renewed = count - static_cast<int64_t>(reply.lost.size());
              self->state.renewals += renewed;
              if (cfg.metrics)
                cfg.metrics->lease_renewals += renewed;
              if (reply.instance_lost) {
                self->send(supervisor, orphan_atom::value);
                return;
              }
              if (reply.drain && !self->state.draining) {
                // As a first SIGTERM: no claims, claimed-ahead jobs given
                // back, running ones finish, then the node exits.
                self->state.draining = true;
                log::info("drain requested: stopping gracefully");
                caf::anon_send(supervisor, stop_atom::value, false); // no reply wanted
              }
              if (!reply.progress_refused.empty() && log::enabled(log::level::debug)) {
                std::vector<int64_t> ids;
                for (const auto& l : reply.progress_refused)
                  ids.push_back(l.job_id);
                log::debug("progress not written: lease gone or row locked",
                           {{"job_ids", ids}});
              }
              if (!reply.abandoned.empty())
                log::warn("jobs held under this worker id but run by no attempt"
                          " here were given back",
                          {{"job_ids", reply.abandoned}});
              if (reply.lost.empty())
                return;
              // Most are completions written while the renewal ran: the
              // supervisor tells them from leases really lost.
              if (log::enabled(log::level::debug)) {
                std::vector<int64_t> ids;
                for (const auto& l : reply.lost)
                  ids.push_back(l.job_id);
                log::debug("leases not renewed", {{"job_ids", ids}});
              }
              self->send(supervisor, lost_atom::value, std::move(reply.lost));
            },
            on_error);
      },
      on_error);
}

} // namespace

heartbeat_actor::behavior_type
heartbeat_actor_impl(self_ptr self, heartbeat_config cfg,
                     persistence_actor store, supervisor_actor supervisor) {
  self->delayed_send(self, cfg.interval, tick_atom::value);
  return {
    [=](tick_atom) {
      // Re-arm first so the period does not stretch by the renewal's time.
      self->delayed_send(self, cfg.interval, tick_atom::value);
      if (!self->state.renewing)
        renew(self, cfg, store, supervisor);
    },
    [=](renew_atom) {
      // Not re-armed: the ticks keep their period.
      if (self->state.renewing)
        self->state.again = true;
      else
        renew(self, cfg, store, supervisor);
    },
  };
}

} // namespace leasehold
