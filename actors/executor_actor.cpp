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
  } else if (ctx.payload().is_discarded()) {
    result = handler_result::invalid("payload is not valid JSON");
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
  self->request(store, caf::infinite, complete_atom::value, std::move(outcome))
    .then(
      [=](int32_t answer) mutable {
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
            self->send(supervisor, outcome_atom::value, "policy_violation");
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
        self->send(supervisor, outcome_atom::value, label);
        self->quit();
      },
      [=](caf::error& err) mutable {
        auto f = fields();
        f["error"] = self->system().render(err);
        log::error("outcome not written", f);
        self->quit(make_error(exit_code::outcome_unwritten));
      });
}

} // namespace

executor_actor::behavior_type
executor_actor_impl(self_ptr self, claimed_job claimed,
                    std::shared_ptr<const executor_config> cfg,
                    persistence_actor store, supervisor_actor supervisor) {
  auto job = std::make_shared<const claimed_job>(std::move(claimed));
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  self->state.cancel_flag = cancel;
  // However the attempt ends (done, ownership lost, stop deadline), the
  // handler is told to stop.
  self->attach_functor([cancel](const caf::error&) { *cancel = true; });
  if (log::enabled(log::level::debug))
    log::debug("job started", job_fields(*job));
  const auto* handler = cfg->handlers->find(job->type);
  if (handler == nullptr || handler->mode == handler_mode::non_blocking) {
    // Nothing to wait for: run it here and write the outcome right away.
    write_outcome(self, job, store, supervisor, run_handler(*job, handler, *cfg, cancel));
  } else {
    executor_actor handle = caf::actor_cast<executor_actor>(self);
    auto task_cfg = *cfg;
    task_cfg.pool.reset(); // a queued task must not keep its own pool alive
    // The registry is read-only and task_cfg keeps it alive: the pointer holds.
    cfg->pool->submit([job, handler, task_cfg, cancel, handle] {
      caf::anon_send(handle, done_atom::value,
                     run_handler(*job, handler, task_cfg, cancel));
    });
  }
  return {
    [=](done_atom, job_outcome& outcome) {
      if (*cancel)
        return; // ending already; nothing more is written for this attempt
      write_outcome(self, job, store, supervisor, std::move(outcome));
    },
  };
}

} // namespace leasehold
