#include "persistence/persistence_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "persistence/notify_listener.hpp"
#include "persistence/observe_answers.hpp"
#include "runtime/bulk_file.hpp"
#include "runtime/log.hpp"

namespace leasehold {

namespace {

using self_ptr = persistence_actor::stateful_pointer<persistence_state>;

void schedule_reconnect(self_ptr self, const persistence_config& cfg) {
  auto& st = self->state;
  if (st.reconnect_scheduled)
    return;
  st.reconnect_scheduled = true;
  self->delayed_send(self, st.backoff, connect_atom::value);
  st.backoff = std::min(st.backoff * 2, cfg.max_reconnect_backoff);
}

void lose_connection(self_ptr self, const persistence_config& cfg,
                     const std::string& why) {
  if (self->state.db)
    log::warn("database connection lost", {{"error", why}});
  self->state.db.reset();
  schedule_reconnect(self, cfg);
}

// Returns true when a connection is available, connecting if needed.
bool ensure_connected(self_ptr self, const persistence_config& cfg) {
  if (self->state.db)
    return true;
  try {
    self->state.db = std::make_unique<store>(cfg.database_url, cfg.plans, cfg.waits);
    self->state.backoff = std::chrono::milliseconds{100};
    log::info("database connected",
              {{"database", redact_database_url(cfg.database_url)}});
    return true;
  } catch (const std::exception& e) {
    schedule_reconnect(self, cfg);
    return false;
  }
}

// Runs a blocking store call, turning failures into request errors.
template <class T, class F>
caf::result<T> with_store(self_ptr self, const persistence_config& cfg,
                          const char* what, F&& fn) {
  if (!ensure_connected(self, cfg))
    return make_error(store_code::unavailable, what);
  try {
    return fn(*self->state.db);
  } catch (const store_unavailable& e) {
    lose_connection(self, cfg, e.what());
    return make_error(store_code::unavailable, e.what());
  } catch (const store_invalid_input& e) {
    return make_error(store_code::invalid_input, e.what());
  } catch (const store_busy& e) {
    log::warn("statement gave up waiting", {{"error", e.what()}});
    return make_error(store_code::busy, e.what());
  } catch (const std::exception& e) {
    log::error("statement failed", {{"error", e.what()}});
    return make_error(store_code::statement_failed, e.what());
  }
}

void deliver(persistence_state::pending_completion& p, const completion_result& r,
             const persistence_config& cfg) {
  auto result = write_result::written;
  if (!r.written)
    result = write_result::fenced_out;
  else if (r.policy_violation)
    result = cfg.trace.strict ? write_result::rejected_by_policy
                              : write_result::policy_violation;
  p.promise.deliver(written_outcome{static_cast<int32_t>(result), p.outcome.kind,
                                    p.outcome.error});
}

// The attempt whose outcome Postgres rejected, as a failure that says why:
// retried like any failure, its children (maybe the cause) dropped.
job_outcome rejected_outcome(const job_outcome& o, const std::string& why,
                             const persistence_config& cfg) {
  job_outcome failure;
  failure.lease = o.lease;
  failure.kind = job_outcome::retry;
  failure.error = "outcome could not be written: " + why;
  failure.error_code = "outcome_rejected";
  auto shift = std::min(std::max(o.lease.attempt, 1) - 1, 30);
  failure.retry_delay_ms =
    std::min(cfg.retry_base * (int64_t{1} << shift), cfg.retry_cap).count();
  return failure;
}

// Writes one outcome on its own, after its batch failed. False when it has
// to wait (a lock held elsewhere); throws store_unavailable. An outcome that
// cannot be written at all (text Postgres or the JSON encoder rejects, a bad
// child) is recorded as a failure saying so.
bool write_alone(store& db, const persistence_config& cfg,
                 persistence_state::pending_completion& p) {
  try {
    deliver(p, db.complete(cfg.worker_id, {p.outcome}, cfg.trace)[0], cfg);
    return true;
  } catch (const store_busy&) {
    return false;
  } catch (const store_unavailable&) {
    throw;
  } catch (const std::exception& e) {
    // This outcome is the guilty one: record the attempt as failed with
    // Postgres's reason rather than leave it to expire.
    log::error("outcome could not be written; recording it as a failure",
               {{"job_id", p.outcome.lease.job_id}, {"error", e.what()}});
    p.outcome = rejected_outcome(p.outcome, e.what(), cfg);
  }
  try {
    deliver(p, db.complete(cfg.worker_id, {p.outcome}, cfg.trace)[0], cfg);
  } catch (const store_busy&) {
    return false;
  } catch (const store_unavailable&) {
    throw;
  } catch (const std::exception& e) {
    p.promise.deliver(make_error(store_code::statement_failed, e.what()));
  }
  return true;
}

// Outcomes that wait for a lock come back after a backoff (1s, doubling,
// up to 10s), so the writer does not spend its time waiting on one row.
void delay_waiting(self_ptr self, std::vector<persistence_state::pending_completion> waiting) {
  auto& st = self->state;
  if (waiting.empty())
    return;
  log::warn("outcomes wait for a row lock held by another session",
            {{"count", waiting.size()}, {"retry_in_ms", st.delay_backoff.count()}});
  for (auto& w : waiting)
    st.delayed->push_back(std::move(w));
  if (!st.retry_scheduled) {
    st.retry_scheduled = true;
    st.delayed_until = std::chrono::steady_clock::now() + st.delay_backoff;
    self->delayed_send(self, st.delay_backoff, flush_atom::value);
    st.delay_backoff = std::min(st.delay_backoff * 2, std::chrono::milliseconds{10000});
  }
}

// Writes every waiting completion in one transaction. On a broken
// connection they stay waiting and are written after the reconnect, still
// under their leases' guards. When the batch fails otherwise, its outcomes
// are written one by one, so only the guilty one fails.
void flush(self_ptr self, const persistence_config& cfg) {
  auto& st = self->state;
  auto& pending = *st.pending;
  st.flush_scheduled = false;
  if (pending.empty() || !ensure_connected(self, cfg))
    return;
  auto count = std::min(pending.size(), cfg.max_batch);
  std::vector<job_outcome> batch;
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i)
    batch.push_back(pending[i].outcome);
  std::vector<persistence_state::pending_completion> waiting;
  try {
    auto results = st.db->complete(cfg.worker_id, batch, cfg.trace);
    for (size_t i = 0; i < count; ++i)
      deliver(pending[i], results[i], cfg);
    st.delay_backoff = std::chrono::milliseconds{1000};
  } catch (const store_unavailable& e) {
    lose_connection(self, cfg, e.what());
    return;
  } catch (const std::exception& e) {
    log::warn("completion batch failed; writing its outcomes one by one",
              {{"count", count}, {"error", e.what()}});
    for (size_t i = 0; i < count; ++i) {
      try {
        if (!write_alone(*st.db, cfg, pending[i]))
          waiting.push_back(std::move(pending[i]));
      } catch (const store_unavailable& e) {
        // The rest stay pending for the reconnect.
        pending.erase(pending.begin(), pending.begin() + i);
        delay_waiting(self, std::move(waiting));
        lose_connection(self, cfg, e.what());
        return;
      }
    }
  }
  pending.erase(pending.begin(), pending.begin() + count);
  delay_waiting(self, std::move(waiting));
  if (!pending.empty())
    flush(self, cfg);
}

// Fails every completion still held: the supervisor ends those attempts
// (outcome_unwritten) and the jobs go back to the queue instead of staying
// running, renewed, forever.
void fail_held(persistence_state::pending_list& held, const char* why) {
  for (auto& p : held)
    if (p.promise.pending())
      p.promise.deliver(make_error(store_code::unavailable, why));
  held.clear();
}

} // namespace

persistence_actor::behavior_type
persistence_actor_impl(self_ptr self, persistence_config cfg) {
  self->attach_functor([pending = self->state.pending,
                        delayed = self->state.delayed](const caf::error&) {
    fail_held(*pending, "the completion writer stopped before writing it");
    fail_held(*delayed, "the completion writer stopped before writing it");
  });
  ensure_connected(self, cfg);
  return {
    [=](claim_atom, const claim_request& req)
      -> caf::result<std::vector<claimed_job>> {
      return with_store<std::vector<claimed_job>>(
        self, cfg, "job_claim",
        [&](store& db) { return db.claim(cfg.worker_id, req.queue, req.limit, req.types); });
    },
    [=](renew_atom, const std::vector<lease_ref>& leases,
        const std::vector<progress_report>& progress) -> caf::result<renew_reply> {
      return with_store<renew_reply>(self, cfg, "lease_renew", [&](store& db) {
        return db.renew(cfg.worker_id, leases, cfg.instance.terms, progress);
      });
    },
    [=](queues_atom) -> caf::result<queue_states> {
      return with_store<queue_states>(
        self, cfg, "queue_paused_list", [&](store& db) { return db.queue_states_now(); });
    },
    [=](status_atom, const std::string& to,
        const std::vector<std::string>& from) -> caf::result<bool> {
      return with_store<bool>(self, cfg, "instance_set_status", [&](store& db) {
        return db.set_instance_status(cfg.worker_id, to, from);
      });
    },
    [=](release_atom, const std::vector<lease_ref>& leases,
        const std::string& outcome) -> caf::result<std::vector<int64_t>> {
      return with_store<std::vector<int64_t>>(
        self, cfg, "job_release",
        [&](store& db) { return db.release(cfg.worker_id, leases, outcome); });
    },
    [=](unclaim_atom, const std::vector<lease_ref>& leases)
      -> caf::result<std::vector<int64_t>> {
      return with_store<std::vector<int64_t>>(
        self, cfg, "job_unclaim",
        [&](store& db) { return db.unclaim(cfg.worker_id, leases); });
    },
    [=](observe_atom, const observe_request& req) -> caf::result<std::string> {
      return with_store<std::string>(self, cfg, "observe", [&](store& db) {
        return answer_observe(db, req, cfg.limits);
      });
    },
    [=](schedule_atom, int64_t on_time_ms) -> caf::result<int64_t> {
      return with_store<int64_t>(self, cfg, "schedule_due", [&](store& db) {
        auto pass = db.enqueue_due_schedules(std::chrono::milliseconds{on_time_ms});
        if (!pass.failed.empty())
          log::warn("schedules whose cron expression no longer parses",
                    {{"schedules", pass.failed}});
        return pass.enqueued;
      });
    },
    [=](prune_atom, const retention_policy& policy, bool dry_run)
      -> caf::result<prune_report> {
      return with_store<prune_report>(
        self, cfg, "prune", [&](store& db) { return db.prune(policy, dry_run); });
    },
    [=](rescue_atom, const rescue_request& req) -> caf::result<rescue_reply> {
      return with_store<rescue_reply>(
        self, cfg, "job_rescue", [&](store& db) { return db.rescue_expired(req); });
    },
    [=](complete_atom, job_outcome& outcome) -> caf::result<written_outcome> {
      auto& st = self->state;
      auto promise = self->make_response_promise<written_outcome>();
      st.pending->push_back({std::move(outcome), promise});
      // The flush message queues behind the completions already in the
      // mailbox, so one write takes all of them without waiting on a timer.
      if (st.pending->size() >= cfg.max_batch) {
        flush(self, cfg);
      } else if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        if (cfg.completion_linger.count() > 0)
          self->delayed_send(self, cfg.completion_linger, flush_atom::value);
        else
          self->send(self, flush_atom::value);
      }
      return promise;
    },
    [=](flush_atom) {
      auto& st = self->state;
      if (st.retry_scheduled && std::chrono::steady_clock::now() >= st.delayed_until) {
        // The backoff of outcomes that waited for a lock is over.
        st.retry_scheduled = false;
        for (auto& d : *st.delayed)
          st.pending->push_back(std::move(d));
        st.delayed->clear();
      }
      flush(self, cfg);
    },
    [=](register_atom) -> caf::result<bool> {
      return with_store<bool>(self, cfg, "instance_register", [&](store& db) {
        auto me = cfg.instance;
        me.worker_id = cfg.worker_id;
        db.register_instance(me, std::chrono::milliseconds{me.terms.stale_after_ms},
                             std::chrono::milliseconds{me.terms.stop_timeout_ms});
        return db.set_instance_status(cfg.worker_id, "RUNNING", {"STARTING"});
      });
    },
    [=](connect_atom) {
      self->state.reconnect_scheduled = false;
      if (ensure_connected(self, cfg))
        flush(self, cfg);
    },
    [=](listen_atom, const caf::actor& subscriber) {
      self->state.listener = std::make_shared<notify_listener>(
        cfg.database_url,
        [subscriber](const std::string& queue) {
          caf::anon_send(subscriber, wake_atom::value, queue);
        },
        [subscriber](const std::string&) {
          // A queue was paused or resumed: read every queue's state again.
          caf::anon_send(subscriber, control_atom::value);
        });
    },
  };
}

} // namespace leasehold
