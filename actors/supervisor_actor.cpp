#include "actors/supervisor_actor.hpp"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/supervisor_core.hpp"
#include "messages/errors.hpp"
#include "runtime/log.hpp"

namespace leasehold {

namespace supervisor_detail {

// Ends an executor that runs no attempt: its exit is not a failure.
void end_idle_executor(self_ptr self, const executor_actor& exec,
                       const caf::error& reason) {
  self->demonitor(exec.address());
  self->send_exit(exec, reason);
}

void quit_now(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  log::info("node stopped", {{"supervised_failures", st.stats.supervised_failures}});
  if (st.stopped.pending())
    st.stopped.deliver(true);
  stop_core(self, caf::exit_reason::user_shutdown);
  self->quit(reason);
}

// Once the last executor is gone: give back the jobs that ran out of time,
// mark the instance STOPPED, then quit. An orphaned node writes nothing.
void finish_stop_if_idle(self_ptr self) {
  auto& st = self->state;
  if (!st.stopping || !st.jobs.empty() || st.finishing
      || !st.giving_back.empty())
    return;
  st.finishing = true;
  if (st.instance_lost) {
    quit_now(self, make_error(exit_code::instance_lost));
    return;
  }
  if (!st.store) { // mid-restart: nothing to write with; leases will expire
    quit_now(self, caf::error{});
    return;
  }
  auto mark_stopped = [=] {
    self->request(self->state.store, std::chrono::seconds{10}, status_atom::value,
                  std::string{"STOPPED"}, std::vector<std::string>{"STOPPING"})
      .then([=](bool) { quit_now(self, caf::error{}); },
            [=](caf::error&) { quit_now(self, caf::error{}); });
  };
  if (st.to_release.empty()) {
    mark_stopped();
    return;
  }
  self->request(st.store, std::chrono::seconds{10}, release_atom::value,
                st.to_release, std::string{"stopping_timeout"})
    .then(
      [=](const std::vector<int64_t>& ids) {
        log::warn("jobs released after the stop timeout", {{"job_ids", ids}});
        mark_stopped();
      },
      [=](caf::error& err) {
        log::error("could not release jobs; they will expire",
                   {{"error", self->system().render(err)}});
        mark_stopped();
      });
}

void begin_stop(self_ptr self, const supervisor_config& cfg, bool immediate) {
  auto& st = self->state;
  if (!st.stopping) {
    st.stopping = true;
    if (st.lease)
      self->send(st.lease, stop_atom::value);
    give_back_buffered(self);
    // STOPPING at once frees a singleton's slot for its successor.
    if (st.store)
      self->request(st.store, std::chrono::seconds{10}, status_atom::value,
                  std::string{"STOPPING"},
                  std::vector<std::string>{"STARTING", "RUNNING"})
      .then([](bool) {}, [](caf::error&) {});
    log::info("stopping", {{"in_flight", st.jobs.size()},
                           {"grace_ms", immediate ? 0 : cfg.stop_timeout.count()}});
  }
  if (immediate)
    self->send(self, deadline_atom::value);
  else
    self->delayed_send(self, cfg.stop_timeout, deadline_atom::value);
}

void on_executor_down(self_ptr self, const caf::actor_addr& executor,
                      const caf::error& reason) {
  auto& st = self->state;
  auto i = st.jobs.find(executor);
  if (i == st.jobs.end())
    return;
  auto job = i->second.job;
  auto job_id = i->second.lease().job_id;
  auto slot_freed = i->second.slot_freed;
  if (reason == make_error(exit_code::stopping_timeout))
    st.to_release.push_back(i->second.lease());
  if (reason) {
    auto label = reason_label(reason);
    ++st.stats.supervised_failures[label];
    log::error("supervised failure",
               {{"reason", label},
                {"job_id", job_id},
                {"attempt", i->second.lease().attempt}});
  }
  st.jobs.erase(i);
  // A handler that ignores its cancel flag keeps its thread, and so its slot.
  auto w = st.watches.find(executor);
  if (slot_freed)
    release_held(self, job->queue);
  else if (w != st.watches.end() && w->second->outlived())
    st.held_by_handler.emplace(executor, job->queue);
  else
    free_slot(self, job->queue);
  finish_stop_if_idle(self);
}

void on_child_down(self_ptr self, const supervisor_config& cfg, caf::down_msg& dm) {
  auto& st = self->state;
  // A timed-out attempt's handler has returned: its slot is free at last.
  if (auto d = st.draining.find(dm.source); d != st.draining.end()) {
    auto queue = std::move(d->second.second);
    st.draining.erase(d);
    free_slot(self, queue);
    return;
  }
  if (st.jobs.count(dm.source) != 0) {
    on_executor_down(self, dm.source, dm.reason);
    return;
  }
  auto& idle = st.idle_executors;
  auto was_idle = std::find_if(idle.begin(), idle.end(), [&](const executor_actor& e) {
    return e.address() == dm.source;
  });
  if (was_idle != idle.end())
    idle.erase(was_idle); // between attempts: no attempt was lost
  else if (is_core(self, dm.source))
    on_core_down(self, cfg, dm.reason);
}

void on_down(self_ptr self, const supervisor_config& cfg, caf::down_msg& dm) {
  on_child_down(self, cfg, dm);
  self->state.watches.erase(dm.source);
}

// An executor ended while its handler ran on; now the handler has returned.
void on_handler_returned(self_ptr self, const caf::actor_addr& executor) {
  auto& held = self->state.held_by_handler;
  auto i = held.find(executor);
  if (i == held.end())
    return;
  auto queue = std::move(i->second);
  held.erase(i);
  free_slot(self, queue);
}

} // namespace supervisor_detail

using namespace supervisor_detail;

supervisor_actor::behavior_type
supervisor_actor_impl(self_ptr self, supervisor_config cfg) {
  self->state.worker_id = cfg.persistence.worker_id;
  // One executor configuration for all attempts, shared rather than copied.
  self->state.executor_cfg = std::make_shared<const executor_config>(cfg.executor);
  self->state.buffer = std::make_unique<prefetch_buffer>(cfg.lease.queues, cfg.prefetch);
  spawn_core(self, cfg);
  if (cfg.prefetch.limit > 0)
    self->send(self, prefetch_atom::value);
  self->set_down_handler([=](caf::down_msg& dm) { on_down(self, cfg, dm); });
  // Shut down from outside (node teardown): take every child along.
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& kv : self->state.jobs)
      self->send_exit(kv.second.executor, em.reason);
    stop_core(self, em.reason);
    self->quit(em.reason);
  });
  return {
    [=](spawn_atom, std::vector<claimed_job>& batch) {
      accept_claimed(self, batch);
    },
    [=](pause_atom, std::vector<std::string>& paused) {
      set_paused(self, std::move(paused));
    },
    [=](limited_atom, const std::vector<std::string>& queues) {
      give_back_limited(self, queues);
    },
    [=](leases_atom) {
      // Buffered jobs are leases too: renewed like running ones.
      self->state.leases_taken_at_seq = self->state.claim_seq;
      auto leases = self->state.buffer->leases();
      const auto& returning = self->state.giving_back;
      leases.insert(leases.end(), returning.begin(), returning.end());
      leases.reserve(leases.size() + self->state.jobs.size());
      for (const auto& kv : self->state.jobs)
        leases.push_back(kv.second.lease());
      return leases;
    },
    [=](lost_atom, const std::vector<lease_ref>& lost) {
      // The executor ends with ownership_lost unless that attempt's outcome
      // is written, or being written and the write is not fenced out: a
      // renewal can race the completion that deleted the job.
      drop_lost_buffered(self, lost);
      std::set<std::pair<int64_t, int32_t>> gone;
      for (const auto& l : lost)
        gone.emplace(l.job_id, l.attempt);
      std::vector<int64_t> running_ids;
      for (const auto& kv : self->state.jobs) {
        const auto l = kv.second.lease();
        // A job given back and claimed again since the list was taken
        // holds the same (id, attempt): the verdict is not about it.
        if (kv.second.job->claim_seq > self->state.leases_taken_at_seq)
          continue;
        if (gone.count({l.job_id, l.attempt}) == 0)
          continue;
        self->send(kv.second.executor, lost_atom::value, l);
        // One whose handler has returned is most likely completed by now:
        // its fenced write decides, and logs if it is rejected.
        if (!kv.second.slot_freed)
          running_ids.push_back(l.job_id);
      }
      if (!running_ids.empty())
        log::warn("leases lost", {{"job_ids", running_ids}});
    },
    [=](core_atom) {
      return core_actors(self->state);
    },
    [=](nudge_atom, const std::string& topic) {
      if (topic == "leases" && self->state.heartbeat)
        self->send(self->state.heartbeat, renew_atom::value);
      else if (topic == "queues" && self->state.lease)
        self->send(self->state.lease, control_atom::value);
    },
    [=](inflight_atom) {
      return inflight_attempts(self->state, cfg.executor.progress.get());
    },
    [=](stats_atom) {
      auto s = self->state.stats;
      s.in_flight = static_cast<int64_t>(self->state.jobs.size());
      s.prefetched = static_cast<int64_t>(self->state.buffer->size());
      s.worker_id = self->state.worker_id;
      return s;
    },
    [=](stop_atom, bool immediate) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.stopped.pending())
        st.stopped = self->make_response_promise<bool>();
      auto promise = st.stopped;
      begin_stop(self, cfg, immediate);
      finish_stop_if_idle(self);
      return promise;
    },
    [=](orphan_atom) {
      auto& st = self->state;
      if (st.instance_lost || st.reregistering)
        return;
      if (!cfg.persistence.instance.singleton && !st.stopping) {
        begin_reregistration(self, cfg);
        return;
      }
      log::critical("instance row is no longer ours (marked STOPPED by another"
                    " node): giving up every job and exiting");
      st.instance_lost = true;
      forget_buffered(self);
      st.stopping = true;
      if (st.lease)
        self->send(st.lease, stop_atom::value);
      // Every attempt ends now, even one whose outcome is being written:
      // the node may be cut off from Postgres and must not wait for it.
      for (auto& kv : st.jobs)
        self->send_exit(kv.second.executor, make_error(exit_code::ownership_lost));
      finish_stop_if_idle(self);
    },
    [=](deadline_atom) {
      for (auto& kv : self->state.jobs)
        self->send(kv.second.executor, deadline_atom::value, kv.second.lease());
    },
    [=](slot_atom) {
      auto& st = self->state;
      if (st.lease)
        for (const auto& [queue, freed] : st.freed_slots)
          self->send(st.lease, slot_atom::value, queue, freed);
      st.freed_slots.clear();
    },
    [=](prefetch_atom) { prefetch_tick(self, cfg); },
    [=](ran_atom, const lease_ref& lease) {
      auto i = self->state.jobs.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (i == self->state.jobs.end() || i->second.slot_freed
          || i->second.lease().job_id != lease.job_id
          || i->second.lease().attempt != lease.attempt)
        return;
      i->second.slot_freed = true;
      handler_slot_free(self, i->second.job->queue);
    },
    [=](done_atom, const caf::actor_addr& executor) {
      on_handler_returned(self, executor);
    },
    [=](restart_atom, const std::string& what) {
      if (what == "register") {
        reregister(self, cfg);
        return;
      }
      self->state.restart_pending = false;
      if (self->state.stopping)
        return;
      ++self->state.stats.restarts;
      spawn_core(self, cfg);
    },
  };
}

} // namespace leasehold
