#include "actors/executor_actor.hpp"

#include <algorithm>
#include <random>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/handler_pool.hpp"
#include "runtime/handler_registry.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace leasehold {

std::chrono::milliseconds retry_policy::delay_after(int32_t attempt) const {
  thread_local std::mt19937 gen{std::random_device{}()};
  auto shift = std::min(std::max(attempt, 1) - 1, 30);
  auto delay = std::min(base * (int64_t{1} << shift), cap);
  std::uniform_int_distribution<int64_t> jitter{0, delay.count() / 10};
  return std::min(delay + std::chrono::milliseconds{jitter(gen)}, cap);
}

namespace {

using self_ptr = executor_actor::stateful_pointer<executor_state>;

nlohmann::json job_fields(const claimed_job& job) {
  return {{"job_id", job.id},
          {"type", job.type},
          {"attempt", job.attempt},
          {"correlation_id", job.correlation_id},
          {"trace_id", job.trace_id}};
}

// Runs `handler` (null: the type has none) on the calling thread; never
// throws.
job_outcome run_handler(const claimed_job& job, const registered_handler* handler,
                        const executor_config& cfg,
                        const std::shared_ptr<std::atomic<bool>>& cancel) {
  job_outcome out;
  out.lease = {job.id, job.attempt};
  handler_result result;
  job_context ctx{job, cfg.worker_id, cancel};
  auto started = std::chrono::steady_clock::now();
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
      out.error = result.message;
      out.error_code = "handler_error";
      out.retry_delay_ms = cfg.retry.delay_after(job.attempt).count();
      break;
    case handler_result::precondition_failed:
      out.kind = job_outcome::failed;
      out.error = result.message;
      out.error_code = "precondition_failed";
      break;
  }
  return out;
}

const char* outcome_label(const job_outcome& o) {
  switch (o.kind) {
    case job_outcome::succeeded:
      return "succeeded";
    case job_outcome::retry:
      return "handler_error";
    default:
      return "precondition_failed";
  }
}

// The job is shared, not copied, by the callbacks below: this runs once per
// job, and a copy is five strings.
void write_outcome(self_ptr self, std::shared_ptr<const claimed_job> job,
                   persistence_actor store, supervisor_actor supervisor,
                   job_outcome outcome) {
  auto label = outcome_label(outcome);
  // Fields are built only when a line is written.
  auto fields = [job, error = outcome.error, ok = outcome.kind == job_outcome::succeeded] {
    auto f = job_fields(*job);
    if (!ok)
      f["error"] = error;
    return f;
  };
  self->state.writing = true;
  self->request(store, caf::infinite, complete_atom::value, std::move(outcome))
    .then(
      [=](int32_t answer) mutable {
        bool violated = false;
        switch (static_cast<write_result>(answer)) {
          case write_result::fenced_out:
            log::warn("outcome rejected: lease no longer held", fields());
            self->quit(make_error(exit_code::ownership_lost));
            return;
          case write_result::policy_violation:
          case write_result::rejected_by_policy: {
            auto f = fields();
            f["policy"] = "trace_id_required";
            log::critical("POLICY_VIOLATION", f);
            violated = true;
            if (static_cast<write_result>(answer)
                == write_result::rejected_by_policy)
              label = "trace_policy";
            break;
          }
          case write_result::written:
            break;
        }
        if (log::enabled(log::level::info))
          log::info(std::string{"job "} + label, fields());
        // Idle again: a late lost or deadline for this attempt is ignored.
        self->state.job = nullptr;
        self->state.writing = false;
        self->send(supervisor, outcome_atom::value, std::string{label}, violated);
      },
      [=](caf::error& err) mutable {
        auto f = fields();
        f["error"] = self->system().render(err);
        log::error("outcome not written", f);
        self->quit(make_error(exit_code::outcome_unwritten));
      });
}

bool is_current(self_ptr self, const lease_ref& lease) {
  const auto& job = self->state.job;
  return job && job->id == lease.job_id && job->attempt == lease.attempt;
}

} // namespace

executor_actor::behavior_type
executor_actor_impl(self_ptr self, std::shared_ptr<const executor_config> cfg,
                    persistence_actor store, supervisor_actor supervisor) {
  // The running attempt's cancel flag. However the actor ends (ownership
  // lost, stop deadline, shutdown), the handler is told to stop.
  auto cancel = std::make_shared<std::shared_ptr<std::atomic<bool>>>();
  self->attach_functor([cancel](const caf::error&) {
    if (*cancel)
      **cancel = true;
  });
  return {
    [=](run_atom, claimed_job& claimed) {
      auto job = std::make_shared<const claimed_job>(std::move(claimed));
      self->state.job = job;
      *cancel = std::make_shared<std::atomic<bool>>(false);
      if (log::enabled(log::level::debug))
        log::debug("job started", job_fields(*job));
      const auto* handler = cfg->handlers->find(job->type);
      if (handler == nullptr || handler->mode == handler_mode::non_blocking) {
        // Nothing to wait for: run it here and write the outcome right away.
        write_outcome(self, job, store, supervisor,
                      run_handler(*job, handler, *cfg, *cancel));
        return;
      }
      executor_actor handle = caf::actor_cast<executor_actor>(self);
      auto task_cfg = *cfg;
      task_cfg.pool.reset(); // a queued task must not keep its own pool alive
      // The registry is read-only and task_cfg keeps it alive: the pointer holds.
      cfg->pool->submit([job, handler, task_cfg, flag = *cancel, handle] {
        caf::anon_send(handle, done_atom::value,
                       run_handler(*job, handler, task_cfg, flag));
      });
    },
    [=](done_atom, job_outcome& outcome) {
      if (!is_current(self, outcome.lease))
        return;
      write_outcome(self, self->state.job, store, supervisor, std::move(outcome));
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
  };
}

} // namespace leasehold
