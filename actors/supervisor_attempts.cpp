// The supervisor's attempts: one started on an executor, and the writer's
// answer for it (counted, logged, the executor kept or ended).
#include "actors/supervisor_actor.hpp"

#include <algorithm>
#include <utility>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/supervisor_core.hpp"
#include "messages/errors.hpp"
#include "runtime/log.hpp"
#include "runtime/progress_board.hpp"

namespace leasehold::supervisor_detail {

const char* outcome_label(int32_t kind) {
  switch (kind) {
    case job_outcome::succeeded:
      return "succeeded";
    case job_outcome::retry:
      return "handler_error";
    case job_outcome::snoozed:
      return "snoozed";
    default:
      return "precondition_failed";
  }
}

// Executor `exec`'s entry while it still runs `job`, else jobs.end().
auto find_running(self_ptr self, const caf::actor_addr& exec, const shared_job& job) {
  auto& jobs = self->state.jobs;
  auto i = jobs.find(exec);
  return i != jobs.end() && i->second.job == job ? i : jobs.end();
}

// The writer's answer for the attempt `job` that executor `exec` ran. A
// written outcome is counted and logged, and the executor takes the next
// attempt (while stopping, there is none: it ends). A fenced-out write means
// the lease was lost: the executor ends with ownership_lost, which its down
// message counts.
void on_written(self_ptr self, const caf::actor_addr& exec, const shared_job& job,
                const written_outcome& written) {
  auto& st = self->state;
  auto i = find_running(self, exec, job);
  // Ended already (stop deadline), or every attempt is being ended as lost
  // (orphan): the executor's down message counts it.
  if (i == st.jobs.end() || st.instance_lost || st.reregistering)
    return;
  auto result = static_cast<write_result>(written.result);
  if (result == write_result::fenced_out) {
    log::warn("outcome rejected: lease no longer held", log::job_fields(*job));
    self->send_exit(i->second.executor, make_error(exit_code::ownership_lost));
    return;
  }
  std::string label = written.timed_out ? "timeout" : outcome_label(written.kind);
  ++st.stats.outcomes[label];
  if (result == write_result::policy_violation
      || result == write_result::rejected_by_policy) {
    auto f = log::job_fields(*job);
    f["policy"] = "trace_id_required";
    log::critical("POLICY_VIOLATION", f);
    ++st.stats.outcomes["policy_violation"];
    ++st.stats.policy_violations;
    if (result == write_result::rejected_by_policy)
      label = "trace_policy";
  }
  // A success is the common case and job_runs keeps it: a line per job
  // would cost a busy node more CPU than the job itself. Anything else is
  // worth a line at the default level.
  const bool ok = label == "succeeded";
  if (log::enabled(ok ? log::level::debug : log::level::info)) {
    auto f = log::job_fields(*job);
    if (!ok) {
      f["error"] = written.error;
      log::info("job " + label, f);
    } else {
      log::debug("job " + label, f);
    }
  }
  st.restart_streak = 0; // work flows again
  auto executor = std::move(i->second.executor);
  auto slot_freed = i->second.slot_freed;
  st.jobs.erase(i);
  if (written.handler_running) // timed out: the slot is freed when it exits
    st.draining.emplace(exec, std::make_pair(std::move(executor), job->queue));
  else if (st.stopping)
    end_idle_executor(self, executor, caf::exit_reason::user_shutdown);
  else
    st.idle_executors.push_back(std::move(executor));
  if (slot_freed)
    release_held(self, job->queue);
  else if (!written.handler_running)
    free_slot(self, job->queue);
  finish_stop_if_idle(self);
}

// No answer from the writer: its statement failed, or it was gone (a core
// restart while the handler ran). The outcome is not written and the
// executor ends. An error that is the executor's own exit reason is left to
// its down message.
void on_unwritten(self_ptr self, const caf::actor_addr& exec, const shared_job& job,
                  const caf::error& err) {
  auto i = find_running(self, exec, job);
  if (i == self->state.jobs.end() || err.category() == exit_category)
    return;
  auto f = log::job_fields(*job);
  f["error"] = self->system().render(err);
  log::error("outcome not written", f);
  self->send_exit(i->second.executor, make_error(exit_code::outcome_unwritten));
}

void start_attempt(self_ptr self, shared_job job) {
  auto& st = self->state;
  executor_actor exec;
  if (st.idle_executors.empty()) {
    auto watch = std::make_shared<handler_watch>(self->address());
    exec = self->spawn<caf::monitored>(executor_actor_impl, st.executor_cfg, st.writer,
                                       watch);
    st.watches.emplace(exec.address(), std::move(watch));
    ++st.stats.executors_spawned;
  } else {
    exec = std::move(st.idle_executors.back());
    st.idle_executors.pop_back();
  }
  auto addr = exec.address();
  st.jobs[addr] = {exec, job, false, std::chrono::steady_clock::now()};
  // The writer answers this request (the executor delegates it).
  self->request(exec, caf::infinite, run_atom::value, job)
    .then([=](const written_outcome& w) { on_written(self, addr, job, w); },
          [=](caf::error& err) { on_unwritten(self, addr, job, err); });
}

std::vector<cluster_attempt_v1> inflight_attempts(const supervisor_state& st,
                                                  progress_board* progress) {
  std::vector<cluster_attempt_v1> out;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& kv : st.jobs) {
    const auto& j = *kv.second.job;
    cluster_attempt_v1 a;
    a.job_id = j.id;
    a.type = j.type;
    a.queue = j.queue;
    a.attempt = j.attempt;
    a.age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - kv.second.started)
                 .count();
    a.trace_id = j.trace_id;
    if (progress)
      if (auto p = progress->peek(kv.second.lease()))
        a.progress = nlohmann::json{{"value", p->value}, {"message", p->message}}.dump();
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.age_ms > b.age_ms; });
  return out;
}

} // namespace leasehold::supervisor_detail
