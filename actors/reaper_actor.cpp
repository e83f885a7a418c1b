#include "actors/reaper_actor.hpp"

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/log.hpp"

namespace leasehold {

std::chrono::milliseconds reaper_max_gap(const reaper_config& cfg) {
  // A sweep is due every interval; twice that plus a second of slack
  // covers a busy store actor without hiding an outage.
  return 2 * cfg.interval + std::chrono::milliseconds{1000};
}

namespace {

using self_ptr = reaper_actor::stateful_pointer<reaper_state>;
using clock = std::chrono::steady_clock;

// How long this reaper has watched the database answer without a break.
int64_t watched_ms(self_ptr self) {
  const auto& since = self->state.watching_since;
  if (!since)
    return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - *since)
    .count();
}

void go_blind(self_ptr self, const char* why) {
  if (self->state.watching_since)
    log::warn("reaper stops judging others until the database answers again",
              {{"why", why}});
  self->state.watching_since.reset();
}

} // namespace

reaper_actor::behavior_type
reaper_actor_impl(self_ptr self, reaper_config cfg, persistence_actor store) {
  self->delayed_send(self, cfg.interval, tick_atom::value);
  const auto max_gap = reaper_max_gap(cfg);
  return {
    [=](tick_atom) {
      self->delayed_send(self, cfg.interval, tick_atom::value);
      if (self->state.sweeping)
        return;
      self->state.sweeping = true;
      rescue_request req{cfg.lease_ttl.count(), cfg.retry_base.count(),
                         cfg.retry_cap.count(), cfg.stale_after.count(),
                         cfg.stop_timeout.count(), watched_ms(self)};
      auto sent = clock::now();
      self->request(store, max_gap, rescue_atom::value, req)
        .then(
          [=](const rescue_reply& reply) {
            auto& st = self->state;
            st.sweeping = false;
            auto now = clock::now();
            if (now - sent > max_gap || (st.watching_since && now - st.last_answer > max_gap))
              go_blind(self, "the database answered late");
            if (!st.watching_since)
              st.watching_since = now;
            st.last_answer = now;
            if (!reply.instances.empty())
              log::warn("silent instances marked STOPPED",
                        {{"worker_ids", reply.instances}});
            if (!reply.jobs.empty())
              log::warn("expired leases rescued", {{"job_ids", reply.jobs}});
          },
          [=](caf::error& err) {
            self->state.sweeping = false;
            // A lock held by another session is not the database being
            // unusable: it answered, within the lock timeout.
            if (err.category() == store_category
                && err.code() == static_cast<uint8_t>(store_code::busy)) {
              log::warn("rescue sweep waited on a lock held elsewhere",
                        {{"error", self->system().render(err)}});
              return;
            }
            go_blind(self, "a sweep failed");
          });
    },
  };
}

} // namespace leasehold
