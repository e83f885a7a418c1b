#include "actors/executor_actor.hpp"

#include <algorithm>
#include <random>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/duration.hpp"
#include "runtime/execution_ledger.hpp"
#include "runtime/handler_pool.hpp"
#include "runtime/handler_registry.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/progress_board.hpp"
#include "runtime/text.hpp"

namespace leasehold {

std::chrono::milliseconds retry_policy::delay_after(int32_t attempt) const {
  thread_local std::mt19937 gen{std::random_device{}()};
  auto shift = std::min(std::max(attempt, 1) - 1, 30);
  auto delay = std::min(base * (int64_t{1} << shift), cap);
  std::uniform_int_distribution<int64_t> jitter{0, delay.count() / 10};
  return std::min(delay + std::chrono::milliseconds{jitter(gen)}, cap);
}

void handler_watch::started() {
  std::lock_guard<std::mutex> guard{mtx_};
  running_ = true;
}

void handler_watch::returned(const caf::actor_addr& executor) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    running_ = false;
    if (!awaited_)
      return;
    awaited_ = false;
  }
  if (auto supervisor = caf::actor_cast<supervisor_actor>(supervisor_))
    caf::anon_send(supervisor, done_atom::value, executor);
}

bool handler_watch::outlived() {
  std::lock_guard<std::mutex> guard{mtx_};
  awaited_ = running_;
  return running_;
}

namespace {

using self_ptr = executor_actor::stateful_pointer<executor_state>;

// Runs `handler` (null: the type has none) on the calling thread; never
// throws. Error texts leave here valid UTF-8, without NUL and at most
// max_error_bytes long: Postgres must be able to store every outcome.
job_outcome run_handler(const claimed_job& job, const registered_handler* handler,
                        const executor_config& cfg,
                        const std::shared_ptr<std::atomic<bool>>& cancel) {
  job_outcome out;
  out.lease = {job.id, job.attempt};
  out.buffered_ms = job.buffered_ms;
  handler_result result;
  job_context ctx{job, cfg.worker_id, cancel, cfg.limits, cfg.progress.get()};
  auto started = std::chrono::steady_clock::now();
  if (cfg.ledger)
    cfg.ledger->started(job.id, job.attempt, cfg.worker_id);
  if (handler == nullptr) {
    result = handler_result::invalid("no handler for job type '" + job.type
                                     + "'");
  } else {
    try {
      result = handler->fn(ctx);
    } catch (const std::exception& e) {
      result = handler_result::failure(std::string{"handler threw: "}
                                       + e.what());
    } catch (...) {
      result = handler_result::failure("handler threw a non-exception");
    }
  }
  // A refused child fails the attempt, whatever the handler made of it.
  if (!ctx.child_error().empty())
    result = handler_result::failure(ctx.child_error());
  if (cfg.metrics)
    cfg.metrics->job_seconds.observe(std::chrono::duration<double>(
      std::chrono::steady_clock::now() - started).count());
  switch (result.kind) {
    case handler_result::ok:
      out.kind = job_outcome::succeeded;
      out.children = ctx.take_children();
      break;
    case handler_result::error:
      out.kind = job_outcome::retry;
      out.error = clean_text(result.message);
      out.error_code = "handler_error";
      out.retry_delay_ms = cfg.retry.delay_after(job.attempt).count();
      break;
    case handler_result::precondition_failed:
      out.kind = job_outcome::failed;
      out.error = clean_text(result.message);
      out.error_code = "precondition_failed";
      break;
    case handler_result::snooze:
      out.kind = job_outcome::snoozed;
      out.retry_delay_ms = std::max<int64_t>(0, result.delay.count());
      break;
  }
  out.output = output_text(result.output, cfg.limits.max_output_bytes);
  // The last report the heartbeat has not taken goes with the outcome.
  if (cfg.progress)
    if (auto last = cfg.progress->take(out.lease))
      out.progress = nlohmann::json{{"value", last->value},
                                    {"message", last->message}}.dump();
  if (cfg.ledger)
    cfg.ledger->ended(job.id, job.attempt, cfg.worker_id,
                      out.kind == job_outcome::succeeded ? "succeeded"
                      : out.kind == job_outcome::retry   ? "handler_error"
                      : out.kind == job_outcome::snoozed ? "snoozed"
                                                         : "precondition_failed");
  return out;
}

// Tells whoever asked for the attempt (the supervisor) that its handler
// returned: the slot can take the next job while the outcome is written.
void tell_handler_returned(self_ptr self) {
  const auto& job = self->state.job;
  auto strong = caf::actor_cast<caf::strong_actor_ptr>(self->state.requester);
  if (strong)
    self->send(caf::actor_cast<supervisor_actor>(strong), ran_atom::value,
               lease_ref{job->id, job->attempt});
}

bool is_current(self_ptr self, const lease_ref& lease) {
  const auto& job = self->state.job;
  return job && job->id == lease.job_id && job->attempt == lease.attempt;
}

// What the actor's exit must reach, which is why it lives outside the
// state (gone by the time exit functors run).
struct attempt_hooks {
  /// The running attempt's cancel flag, read by its handler.
  std::shared_ptr<std::atomic<bool>> cancel;
  /// The supervisor's run request, while a blocking handler runs on the pool.
  caf::typed_response_promise<written_outcome> reply;
};

// How long an attempt of `handler` may run.
std::chrono::milliseconds attempt_limit(const executor_config& cfg,
                                        const registered_handler& handler) {
  return handler.timeout.count() > 0 ? handler.timeout : cfg.attempt_timeout;
}

// Makes sure a timer fires by `at`.
void arm_timer(self_ptr self, std::chrono::steady_clock::time_point at) {
  auto& timers = self->state.timers;
  if (!timers.empty() && *timers.begin() <= at)
    return;
  timers.insert(at);
  self->delayed_send(self, at - std::chrono::steady_clock::now(), timeout_atom::value);
}

// The attempt ran past `limit`: its handler is told to cancel and the
// attempt ends as a failure, retried like any other, written under its
// lease. The answer goes to the supervisor with handler_running set while
// the handler has not returned; the executor then exits when it does.
void time_out(self_ptr self, const executor_config& cfg, persistence_actor store,
              const std::shared_ptr<attempt_hooks>& hooks,
              std::chrono::milliseconds limit) {
  auto& st = self->state;
  st.timed_out = true;
  st.writing = true;
  *hooks->cancel = true;
  job_outcome out;
  out.lease = {st.job->id, st.job->attempt};
  out.buffered_ms = st.job->buffered_ms;
  out.kind = job_outcome::retry;
  out.error = "attempt timed out after " + format_duration(limit);
  out.error_code = "timeout";
  out.retry_delay_ms = cfg.retry.delay_after(st.job->attempt).count();
  if (log::enabled(log::level::warn))
    log::warn("attempt timed out; its handler was told to cancel",
              log::job_fields(*st.job));
  // The promise stays in hooks, so an exit meanwhile still answers it.
  self->request(store, caf::infinite, complete_atom::value, std::move(out))
    .then(
      [=](written_outcome& w) {
        self->state.timeout_written = true;
        w.timed_out = true;
        w.handler_running = self->state.handler_busy;
        if (hooks->reply.pending())
          hooks->reply.deliver(std::move(w));
      },
      [=](caf::error& err) {
        if (hooks->reply.pending())
          hooks->reply.deliver(std::move(err));
      });
}

} // namespace

executor_actor::behavior_type
executor_actor_impl(self_ptr self, std::shared_ptr<const executor_config> cfg,
                    persistence_actor store, std::shared_ptr<handler_watch> watch) {
  // However the actor ends (ownership lost, stop deadline, shutdown), the
  // handler is told to stop, and a run request still waiting for its handler
  // is answered with the exit reason.
  auto hooks = std::make_shared<attempt_hooks>();
  self->attach_functor([hooks](const caf::error& reason) {
    if (hooks->cancel)
      *hooks->cancel = true;
    if (hooks->reply.pending())
      hooks->reply.deliver(reason ? reason : caf::error{caf::sec::request_receiver_down});
  });
  return {
    [=](run_atom, shared_job& job) -> caf::result<written_outcome> {
      self->state.job = job;
      self->state.requester = caf::actor_cast<caf::actor_addr>(self->current_sender());
      self->state.writing = false;
      self->state.timed_out = false;
      self->state.timeout_written = false;
      hooks->cancel = std::make_shared<std::atomic<bool>>(false);
      if (log::enabled(log::level::debug))
        log::debug("job started", log::job_fields(*job));
      const auto* handler = cfg->handlers->find(job->type);
      if (handler == nullptr || handler->mode == handler_mode::non_blocking) {
        // Nothing to wait for: run it here and hand the outcome on at once.
        self->state.writing = true;
        auto outcome = run_handler(*job, handler, *cfg, hooks->cancel);
        tell_handler_returned(self);
        return self->delegate(store, complete_atom::value, std::move(outcome));
      }
      executor_actor handle = caf::actor_cast<executor_actor>(self);
      auto task_cfg = *cfg;
      task_cfg.pool.reset(); // a queued task must not keep its own pool alive
      // The registry is read-only and task_cfg keeps it alive: the pointer holds.
      watch->started();
      cfg->pool->submit([job, handler, task_cfg, flag = hooks->cancel, handle, watch] {
        auto outcome = run_handler(*job, handler, task_cfg, flag);
        watch->returned(handle.address());
        caf::anon_send(handle, done_atom::value, std::move(outcome));
      });
      self->state.handler_busy = true;
      self->state.limit = attempt_limit(*cfg, *handler);
      self->state.deadline = std::chrono::steady_clock::now() + self->state.limit;
      arm_timer(self, self->state.deadline);
      hooks->reply = self->make_response_promise<written_outcome>();
      return hooks->reply;
    },
    [=](done_atom, job_outcome& outcome) {
      if (!is_current(self, outcome.lease))
        return;
      auto& st = self->state;
      st.handler_busy = false;
      // Timed out and written: the supervisor kept the slot for this exit.
      if (st.timed_out && st.timeout_written) {
        self->quit();
        return;
      }
      if (st.writing)
        return;
      self->state.writing = true;
      tell_handler_returned(self);
      auto reply = std::move(hooks->reply);
      hooks->reply = {};
      reply.delegate(store, complete_atom::value, std::move(outcome));
    },
    [=](lost_atom, const lease_ref& lease) {
      // While writing, the fenced write decides (see executor_state).
      if (is_current(self, lease) && !self->state.writing)
        self->quit(make_error(exit_code::ownership_lost));
    },
    [=](deadline_atom, const lease_ref& lease) {
      if (is_current(self, lease))
        self->quit(make_error(exit_code::stopping_timeout));
    },
    [=](timeout_atom) {
      auto& st = self->state;
      if (!st.timers.empty())
        st.timers.erase(st.timers.begin());
      if (st.writing || !st.handler_busy)
        return; // no attempt runs: the next one arms its own
      if (std::chrono::steady_clock::now() < st.deadline)
        arm_timer(self, st.deadline); // armed for an earlier attempt
      else
        time_out(self, *cfg, store, hooks, st.limit);
    },
  };
}

} // namespace leasehold
