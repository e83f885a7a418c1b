#include "actors/lease_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace leasehold {

namespace {

using self_ptr = lease_actor::stateful_pointer<lease_state>;

// True when a claim for `queue` should wait for more slots to free up; the
// first wait arms a timer that brings the queue back when it runs out.
bool defer_claim(self_ptr self, const lease_config& cfg, const std::string& queue) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  auto since = st.deferred_since.find(queue);
  auto waited = since == st.deferred_since.end() ? std::chrono::steady_clock::duration{0}
                                                 : now - since->second;
  if (!claim_should_wait(st.capacity[queue], st.free[queue], waited,
                         cfg.claim_coalesce)) {
    st.deferred_since.erase(queue);
    return false;
  }
  if (since == st.deferred_since.end()) {
    st.deferred_since.emplace(queue, now);
    self->delayed_send(self, cfg.claim_coalesce, wake_atom::value, queue);
  }
  return true;
}

void try_claim(self_ptr self, const lease_config& cfg, persistence_actor store,
               supervisor_actor supervisor, const std::string& queue) {
  auto& st = self->state;
  if (st.stopped || st.free[queue] <= 0 || st.paused.count(queue) != 0)
    return;
  if (st.claiming.count(queue) != 0) {
    st.recheck.insert(queue);
    return;
  }
  if (defer_claim(self, cfg, queue))
    return;
  auto limit = st.free[queue];
  if (st.limited.count(queue) != 0) {
    // No claiming ahead from a limited queue: a place held in a buffer is
    // one no handler uses, on any node. Claim for idle handlers only.
    auto held = st.capacity[queue] - st.free[queue];
    limit = std::min(limit, cfg.queues.at(queue) - held);
    if (limit <= 0)
      return;
  }
  st.claiming.insert(queue);
  st.recheck.erase(queue);
  auto started = std::chrono::steady_clock::now();
  self->request(store, cfg.claim_timeout, claim_atom::value,
                claim_request{queue, limit, cfg.types})
    .then(
      [=](std::vector<claimed_job>& jobs) {
        if (cfg.metrics)
          cfg.metrics->claim_seconds.observe(std::chrono::duration<double>(
            std::chrono::steady_clock::now() - started).count());
        auto& st = self->state;
        st.claiming.erase(queue);
        if (st.store_down)
          log::info("claiming again", {{"queue", queue}});
        st.store_down = false;
        st.free[queue] -= static_cast<int32_t>(jobs.size());
        auto full = static_cast<int32_t>(jobs.size()) == limit;
        if (!jobs.empty())
          self->send(supervisor, spawn_atom::value, std::move(jobs));
        // A full batch suggests more are due; a wake during the claim may
        // have been missed by its snapshot.
        if (full || st.recheck.count(queue) != 0)
          try_claim(self, cfg, store, supervisor, queue);
        // A limited queue's places free up on any node, unannounced: look
        // again soon while this node has room.
        else if (st.limited.count(queue) != 0 && st.free[queue] > 0
                 && st.limited_retry.insert(queue).second)
          self->delayed_send(self, cfg.limited_retry, limited_atom::value, queue);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.claiming.erase(queue);
        if (!st.store_down)
          log::warn("claim failed; retrying on the next tick",
                    {{"queue", queue}, {"error", self->system().render(err)}});
        st.store_down = true;
      });
}

// Reads the paused queues; a change goes to the supervisor, and a resumed
// queue is claimed from at once.
void read_paused(self_ptr self, const lease_config& cfg, persistence_actor store,
                 supervisor_actor supervisor) {
  if (self->state.stopped)
    return;
  if (self->state.reading_paused) {
    self->state.reread_paused = true;
    return;
  }
  self->state.reading_paused = true;
  self->state.reread_paused = false;
  self->request(store, cfg.claim_timeout, queues_atom::value)
    .then(
      [=](const queue_states& states) {
        auto& st = self->state;
        st.reading_paused = false;
        if (st.reread_paused)
          read_paused(self, cfg, store, supervisor);
        std::vector<std::string> newly_limited;
        for (const auto& q : states.limited)
          if (st.limited.count(q) == 0)
            newly_limited.push_back(q);
        if (!newly_limited.empty())
          self->send(supervisor, limited_atom::value, newly_limited);
        st.limited = {states.limited.begin(), states.limited.end()};
        const auto& names = states.paused;
        std::set<std::string> now{names.begin(), names.end()};
        if (now == st.paused)
          return;
        for (const auto& q : now)
          if (st.paused.count(q) == 0)
            log::info("queue paused: claiming nothing from it", {{"queue", q}});
        auto before = std::move(st.paused);
        st.paused = std::move(now);
        self->send(supervisor, pause_atom::value, names);
        for (const auto& q : before)
          if (st.paused.count(q) == 0 && cfg.queues.count(q) != 0) {
            log::info("queue resumed", {{"queue", q}});
            try_claim(self, cfg, store, supervisor, q);
          }
      },
      [=](caf::error&) { self->state.reading_paused = false; });
}

} // namespace

bool claim_should_wait(int32_t capacity, int32_t free,
                       std::chrono::steady_clock::duration waited,
                       std::chrono::milliseconds coalesce) {
  if (free <= 0)
    return true;
  // A quarter free (an idle queue always is): claim now. Otherwise wait,
  // but not for long.
  if (free >= std::max(1, capacity / 4))
    return false;
  return waited < coalesce;
}

lease_actor::behavior_type
lease_actor_impl(self_ptr self, lease_config cfg, persistence_actor store,
                 supervisor_actor supervisor) {
  for (const auto& [queue, capacity] : cfg.queues) {
    auto running = cfg.in_flight.count(queue) ? cfg.in_flight.at(queue) : 0;
    self->state.capacity[queue] = capacity;
    self->state.free[queue] = capacity - running;
  }
  self->send(store, listen_atom::value, caf::actor_cast<caf::actor>(self));
  self->send(self, tick_atom::value);
  auto claim_all = [=] {
    for (const auto& kv : cfg.queues)
      try_claim(self, cfg, store, supervisor, kv.first);
  };
  return {
    [=](tick_atom) {
      read_paused(self, cfg, store, supervisor);
      claim_all();
      if (!self->state.stopped)
        self->delayed_send(self, cfg.poll_interval, tick_atom::value);
    },
    [=](wake_atom, const std::string& queue) {
      if (queue.empty())
        claim_all();
      else if (cfg.queues.count(queue) != 0)
        try_claim(self, cfg, store, supervisor, queue);
    },
    [=](slot_atom, const std::string& queue, int32_t freed) {
      self->state.free[queue] += freed;
      try_claim(self, cfg, store, supervisor, queue);
    },
    [=](prefetch_atom, const std::string& queue, int32_t change) {
      self->state.capacity[queue] += change;
      self->state.free[queue] += change;
      try_claim(self, cfg, store, supervisor, queue);
    },
    [=](control_atom) { read_paused(self, cfg, store, supervisor); },
    [=](limited_atom, const std::string& queue) {
      self->state.limited_retry.erase(queue);
      try_claim(self, cfg, store, supervisor, queue);
    },
    [=](stop_atom) { self->state.stopped = true; },
  };
}

} // namespace leasehold
