// The supervisor's jobs claimed ahead of its handlers: a claimed batch waits
// in the prefetch buffer, a freed slot starts the next buffered job at once
// (no claim round trip with the handlers idle), and jobs that never start
// are given back without consuming their attempt.
#include "actors/supervisor_core.hpp"

#include <algorithm>
#include <memory>
#include <set>

#include <caf/all.hpp>

#include "runtime/log.hpp"

namespace leasehold::supervisor_detail {

namespace {

void start_buffered(self_ptr self, const std::string& queue) {
  auto& st = self->state;
  if (st.paused.count(queue) != 0)
    return;
  auto now = prefetch_buffer::clock::now();
  while (auto job = st.buffer->start_next(queue, now))
    start_attempt(self, std::make_shared<const claimed_job>(std::move(*job)));
}

// Forgets the give-back of `leases`, answered now.
void settle(self_ptr self, const std::vector<lease_ref>& leases) {
  auto& pending = self->state.giving_back;
  for (const auto& l : leases) {
    auto i = std::find_if(pending.begin(), pending.end(), [&](const lease_ref& p) {
      return p.job_id == l.job_id && p.attempt == l.attempt;
    });
    if (i != pending.end())
      pending.erase(i);
  }
}

// Undoes the claims of `jobs` (fenced; nothing recorded). Until the answer
// they are still this node's leases and renewed as such. A give-back that
// fails (Postgres down) puts them back in the buffer: still ours, renewed,
// and given back again later; only a stopping node leaves them to expire.
void unclaim(self_ptr self, std::vector<claimed_job> jobs, const char* why) {
  auto& st = self->state;
  if (jobs.empty())
    return;
  std::vector<lease_ref> leases;
  leases.reserve(jobs.size());
  for (const auto& j : jobs)
    leases.push_back({j.id, j.attempt});
  st.giving_back.insert(st.giving_back.end(), leases.begin(), leases.end());
  auto shared = std::make_shared<std::vector<claimed_job>>(std::move(jobs));
  auto give_up = [=](const std::string& error) {
    settle(self, leases);
    auto& st = self->state;
    if (!st.stopping) {
      auto now = prefetch_buffer::clock::now();
      for (auto& j : *shared)
        st.buffer->add(std::move(j), now);
      return;
    }
    for (const auto& j : *shared)
      release_held(self, j.queue);
    log::warn("buffered jobs not given back; their leases expire",
              {{"jobs", leases.size()}, {"why", why}, {"error", error}});
    finish_stop_if_idle(self);
  };
  if (!st.store) {
    give_up("no connection");
    return;
  }
  self->request(st.store, std::chrono::seconds{10}, unclaim_atom::value, leases)
    .then(
      [=](const std::vector<int64_t>& ids) {
        settle(self, leases);
        auto& st = self->state;
        // Given back, or lost meanwhile: either way no longer held here.
        for (const auto& j : *shared)
          release_held(self, j.queue);
        st.stats.prefetch_given_back += static_cast<int64_t>(ids.size());
        log::info("buffered jobs given back", {{"jobs", ids.size()}, {"why", why}});
        finish_stop_if_idle(self);
      },
      [=](caf::error& err) { give_up(self->system().render(err)); });
}

} // namespace

// A held job of `queue` is gone (ended, lost or given back): the lease
// actor hears of it through one message per burst, not one per job: the
// slot message to self queues behind the outcomes already in the mailbox,
// so they are all counted in one go.
void release_held(self_ptr self, const std::string& queue, int32_t n) {
  auto& freed = self->state.freed_slots;
  if (freed.empty())
    self->send(self, slot_atom::value);
  freed[queue] += n;
}

void accept_claimed(self_ptr self, std::vector<claimed_job>& batch) {
  auto& st = self->state;
  st.stats.claimed += static_cast<int64_t>(batch.size());
  if (st.stopping || st.reregistering || st.instance_lost) {
    // A claim answered after the stop began: none of it runs.
    if (!st.instance_lost && !st.reregistering)
      unclaim(self, batch, "stopping");
    return;
  }
  auto now = prefetch_buffer::clock::now();
  std::set<std::string> queues;
  std::vector<claimed_job> of_paused; // claimed as the pause came in
  for (auto& job : batch) {
    job.claim_seq = ++st.claim_seq;
    if (st.paused.count(job.queue) != 0) {
      of_paused.push_back(std::move(job));
      continue;
    }
    queues.insert(job.queue);
    st.buffer->add(std::move(job), now);
  }
  unclaim(self, std::move(of_paused), "queue paused");
  for (const auto& queue : queues)
    start_buffered(self, queue);
}

void free_slot(self_ptr self, const std::string& queue) {
  release_held(self, queue);
  handler_slot_free(self, queue);
}

void handler_slot_free(self_ptr self, const std::string& queue) {
  self->state.buffer->attempt_ended(queue);
  if (!self->state.stopping)
    start_buffered(self, queue);
}

void give_back_buffered(self_ptr self) {
  unclaim(self, self->state.buffer->take_all(), "stopping");
}

void set_paused(self_ptr self, std::vector<std::string> paused) {
  auto& st = self->state;
  std::set<std::string> now{paused.begin(), paused.end()};
  auto before = std::move(st.paused);
  st.paused = std::move(now);
  for (const auto& q : st.paused)
    if (before.count(q) == 0)
      unclaim(self, st.buffer->take_queue(q), "queue paused");
  if (!st.stopping)
    for (const auto& q : before)
      if (st.paused.count(q) == 0)
        start_buffered(self, q);
}

void give_back_limited(self_ptr self, const std::vector<std::string>& queues) {
  for (const auto& q : queues)
    unclaim(self, self->state.buffer->take_queue(q), "queue limited");
}

void forget_buffered(self_ptr self) {
  auto& st = self->state;
  auto jobs = st.buffer->take_all();
  st.stats.prefetch_lost += static_cast<int64_t>(jobs.size());
  for (const auto& j : jobs)
    release_held(self, j.queue);
  if (!jobs.empty())
    log::warn("buffered jobs left to the reapers: their worker id was revoked",
              {{"jobs", jobs.size()}});
}

void drop_lost_buffered(self_ptr self, const std::vector<lease_ref>& lost) {
  auto& st = self->state;
  for (const auto& l : lost)
    if (auto queue = st.buffer->drop(l, st.leases_taken_at_seq)) {
      ++st.stats.prefetch_lost;
      release_held(self, *queue);
      log::warn("buffered job lost its lease before it started",
                {{"job_id", l.job_id}, {"attempt", l.attempt}});
    }
}

void prefetch_tick(self_ptr self, const supervisor_config& cfg) {
  auto& st = self->state;
  if (st.stopping)
    return;
  auto now = prefetch_buffer::clock::now();
  if (cfg.prefetch.horizon.count() > 0)
    for (const auto& [queue, change] : st.buffer->retarget(now))
      if (st.lease)
        self->send(st.lease, prefetch_atom::value, queue, change);
  unclaim(self, st.buffer->take_overdue(now), "waited past the prefetch bound");
  self->delayed_send(self, std::max(cfg.prefetch.horizon, std::chrono::milliseconds{100}),
                     prefetch_atom::value);
}

} // namespace leasehold::supervisor_detail
