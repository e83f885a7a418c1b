// The supervisor's core actors and its registration: start, stop and
// restart the persistence, writer, lease, heartbeat and reaper actors, and
// register again under a fresh worker id when the old one was revoked.
#include "actors/supervisor_core.hpp"

#include <algorithm>
#include <vector>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/identity.hpp"
#include "runtime/log.hpp"

namespace leasehold::supervisor_detail {

void spawn_core(self_ptr self, const supervisor_config& cfg) {
  auto& st = self->state;
  auto me = caf::actor_cast<supervisor_actor>(self);
  // libpqxx blocks, so the persistence actor gets its own thread. The core
  // runs the same few statements all the time: each is planned once.
  auto store_cfg = cfg.persistence;
  store_cfg.worker_id = st.worker_id;
  store_cfg.plans = statement_plans::generic;
  store_cfg.waits = wait_limits::bounded;
  st.store = self->spawn<caf::detached + caf::monitored>(persistence_actor_impl,
                                                         store_cfg);
  auto writer_cfg = store_cfg;
  writer_cfg.completion_linger = cfg.completion_linger;
  st.writer = self->spawn<caf::detached + caf::monitored>(persistence_actor_impl,
                                                          writer_cfg);
  auto lease_cfg = cfg.lease;
  // A queue holds its concurrency plus what it claims ahead; what it holds
  // now (buffered jobs are leases too) survives a restart of the core.
  for (auto& [queue, held] : lease_cfg.queues) {
    held += st.buffer->target(queue);
    lease_cfg.in_flight[queue] += static_cast<int32_t>(st.buffer->size(queue));
  }
  for (const auto& kv : st.jobs)
    ++lease_cfg.in_flight[kv.second.job->queue];
  for (const auto& kv : st.draining) // their handlers still hold the slots
    ++lease_cfg.in_flight[kv.second.second];
  for (const auto& kv : st.held_by_handler)
    ++lease_cfg.in_flight[kv.second];
  st.lease = self->spawn<caf::monitored>(lease_actor_impl, lease_cfg, st.store,
                                         me);
  st.heartbeat = self->spawn<caf::monitored>(heartbeat_actor_impl,
                                             cfg.heartbeat, st.store, me);
  st.reaper = self->spawn<caf::monitored>(reaper_actor_impl, cfg.reaper,
                                          st.store);
  if (cfg.scheduler.interval.count() > 0)
    st.scheduler = self->spawn<caf::monitored>(scheduler_actor_impl, cfg.scheduler,
                                               st.store);
}

// Every core actor, in one place: stopping, recognising and listing them
// all read this.
std::vector<caf::actor> core_actors(const supervisor_state& st) {
  return {caf::actor_cast<caf::actor>(st.store), caf::actor_cast<caf::actor>(st.lease),
          caf::actor_cast<caf::actor>(st.heartbeat), caf::actor_cast<caf::actor>(st.reaper),
          caf::actor_cast<caf::actor>(st.writer), caf::actor_cast<caf::actor>(st.scheduler)};
}

// Ends the executors that wait for work. They hold the writer they were
// spawned with, so they go with the core.
void stop_idle_executors(self_ptr self, const caf::error& reason) {
  for (auto& exec : self->state.idle_executors)
    end_idle_executor(self, exec, reason);
  self->state.idle_executors.clear();
}

// Ends the core actors without counting their exits as failures.
void stop_core(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  stop_idle_executors(self, reason);
  for (const auto& core : core_actors(st)) {
    if (!core)
      continue;
    self->demonitor(core.address());
    self->send_exit(core, reason);
  }
  st.lease = nullptr;
  st.heartbeat = nullptr;
  st.reaper = nullptr;
  st.scheduler = nullptr;
  st.store = nullptr;
  st.writer = nullptr;
}

bool is_core(self_ptr self, const caf::actor_addr& addr) {
  auto cores = core_actors(self->state);
  return std::any_of(cores.begin(), cores.end(),
                     [&](const caf::actor& core) { return core && core.address() == addr; });
}

void on_core_down(self_ptr self, const supervisor_config& cfg,
                  const caf::error& reason) {
  auto& st = self->state;
  if (st.stopping || st.restart_pending)
    return;
  auto label = reason ? reason_label(reason) : std::string{"exited"};
  ++st.stats.supervised_failures[label];
  // One restart for the whole core: lease and heartbeat hold the store's
  // handle, so they are restarted with it.
  stop_core(self, caf::exit_reason::kill);
  st.restart_pending = true;
  auto delay = std::min(cfg.restart_backoff * (1 << std::min(st.restart_streak, 7)),
                        std::chrono::milliseconds{10000});
  ++st.restart_streak;
  log::error("core actor failed; restarting",
             {{"reason", label}, {"delay_ms", delay.count()}});
  self->delayed_send(self, delay, restart_atom::value, "core");
}

// Registers the fresh worker id with a connection of its own, then starts
// the core under it. Until then the node claims nothing. Retried with the
// restart backoff while the database is unreachable.
void reregister(self_ptr self, const supervisor_config& cfg) {
  auto& st = self->state;
  if (st.stopping)
    return;
  auto reg_cfg = cfg.persistence;
  reg_cfg.worker_id = st.worker_id;
  auto registrar = self->spawn<caf::detached>(persistence_actor_impl, reg_cfg);
  self->request(registrar, std::chrono::seconds{20}, register_atom::value)
    .then(
      [=](bool) {
        self->send_exit(registrar, caf::exit_reason::user_shutdown);
        auto& st = self->state;
        st.reregistering = false;
        if (st.stopping) {
          finish_stop_if_idle(self);
          return;
        }
        log::warn("registered again; running", {{"worker_id", st.worker_id}});
        spawn_core(self, cfg);
      },
      [=](caf::error& err) {
        self->send_exit(registrar, caf::exit_reason::user_shutdown);
        log::error("could not register again; retrying",
                   {{"worker_id", self->state.worker_id},
                    {"error", self->system().render(err)}});
        self->delayed_send(self, std::chrono::seconds{1}, restart_atom::value,
                           std::string{"register"});
      });
}

// The registration was revoked (others marked it STOPPED while this node
// was paused or cut off): every attempt ends with ownership_lost, the old
// worker id writes nothing more (the statements themselves refuse it), and
// the node starts over under a fresh worker id.
void begin_reregistration(self_ptr self, const supervisor_config& cfg) {
  auto& st = self->state;
  auto old_id = st.worker_id;
  st.reregistering = true;
  ++st.stats.reregistrations;
  st.worker_id = make_worker_id(cfg.worker_base);
  auto executor = cfg.executor;
  executor.worker_id = st.worker_id;
  st.executor_cfg = std::make_shared<const executor_config>(std::move(executor));
  log::critical("registration revoked (marked STOPPED by another node): ending"
                " every attempt and registering again under a fresh worker id",
                {{"old_worker_id", old_id}, {"new_worker_id", st.worker_id},
                 {"in_flight", st.jobs.size()}});
  forget_buffered(self);
  for (auto& kv : st.jobs)
    self->send_exit(kv.second.executor, make_error(exit_code::ownership_lost));
  stop_core(self, caf::exit_reason::user_shutdown);
  reregister(self, cfg);
}

} // namespace leasehold::supervisor_detail
