#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/job_types.hpp"
#include "runtime/input_limits.hpp"

/// The C++ API for job handlers: register a function per job type; it gets
/// a job_context and returns a handler_result. For example:
///
///   registry.add("sync_account", [](leasehold::job_context& ctx) {
///     auto account = ctx.payload().at("account").get<int64_t>();
///     if (upstream_busy())                       // a rate limit: not now
///       return leasehold::handler_result::snooze_for(std::chrono::seconds{30});
///     auto synced = sync(account, ctx);          // calls ctx.progress(pct, "...")
///     if (!synced)                               // and polls ctx.cancelled()
///       return leasehold::handler_result::failure("upstream refused");
///     leasehold::child_spec report;              // written only on success
///     report.type = "send_report";
///     report.payload = {{"account", account}};
///     report.unique_key = "report-" + std::to_string(account); // one at a time
///     ctx.enqueue(report);
///     return leasehold::handler_result::success({{"rows", synced.rows}});
///   }, leasehold::handler_mode::blocking, std::chrono::minutes{5});
namespace leasehold {

class progress_board;

/// A child job with every option (job_context::enqueue).
struct child_spec {
  std::string type;
  nlohmann::json payload = nlohmann::json::object();
  std::string queue;            // "": the parent's
  int32_t priority = 0;
  int32_t max_attempts = 0;     // 0: the table's default (25)
  std::string unique_key;       // "": none
  std::string unique_while;     // queued, active ("": active) or any
  std::chrono::milliseconds unique_for{0}; // 0: no window
};

/// What a handler sees of the attempt it runs. It refers to the job and the
/// worker id, which outlive it, and parses the payload on first use: a
/// handler that does not read it costs no copy and no parse.
class job_context {
public:
  /// `progress` (may be null: reports are dropped) keeps this attempt's
  /// progress reports for the node's heartbeat.
  job_context(const claimed_job& job, const std::string& worker_id,
              std::shared_ptr<const std::atomic<bool>> cancel_flag,
              input_limits limits = {}, progress_board* progress = nullptr);

  int64_t job_id() const { return job_.id; }
  const std::string& type() const { return job_.type; }
  const std::string& queue() const { return job_.queue; }
  int32_t attempt() const { return job_.attempt; }
  int32_t max_attempts() const { return job_.max_attempts; }
  const std::string& correlation_id() const { return job_.correlation_id; }
  const std::string& trace_id() const { return job_.trace_id; }
  const std::string& worker_id() const { return worker_id_; }
  const nlohmann::json& payload() const;
  /// The node's bounds on children and output (--max-output-bytes).
  const input_limits& limits() const { return limits_; }

  /// True once the attempt lost its lease, timed out or the node stops.
  /// Long-running handlers should poll it and return early.
  bool cancelled() const { return cancel_flag_->load(); }

  /// Sleeps up to `d`, waking early on cancellation; false if cancelled.
  bool sleep_for(std::chrono::milliseconds d) const;

  /// Reports how far the attempt got: a number of the handler's choosing (a
  /// percentage, rows done) and a short message (cut to 200 bytes). Cheap
  /// enough to call per item: only the latest report is kept, and the node
  /// writes it at its next heartbeat, fenced like the outcome (a report of
  /// an attempt that lost its lease is refused). `leasehold job ID` and
  /// GET /jobs/ID show it while the job runs; the attempt's run row keeps
  /// the last one. NaN and infinity are ignored.
  void progress(double value, const std::string& message = "");

  /// Enqueues a child job that inherits this job's correlation_id. It is
  /// written together with this attempt's success, and never otherwise.
  /// Empty queue: the parent's; max_attempts 0: the table's default (25).
  /// A child the table would refuse (empty or overlong type, bad queue,
  /// priority outside -32768..32767, payload too big or too deep) throws
  /// std::invalid_argument and fails this attempt, whatever the handler
  /// returns: see child_error().
  void enqueue(const std::string& type, const nlohmann::json& payload = {},
               const std::string& queue = "", int32_t priority = 0,
               int32_t max_attempts = 0);

  /// The same, for a child with a unique key (see child_spec): a child whose
  /// key is held when the parent succeeds is not created (the holder stands).
  void enqueue(const child_spec& child);

  /// Children enqueued so far (taken by the executor).
  std::vector<child_job> take_children() { return std::move(children_); }

  /// Why the first invalid child was refused; empty when none was.
  const std::string& child_error() const { return child_error_; }

private:
  const claimed_job& job_;
  const std::string& worker_id_;
  mutable std::optional<nlohmann::json> payload_;
  std::shared_ptr<const std::atomic<bool>> cancel_flag_;
  std::vector<child_job> children_;
  input_limits limits_;
  progress_board* progress_;
  size_t children_asked_ = 0;
  std::string child_error_;
};

/// How a handler ended.
struct handler_result {
  enum kind_t { ok, error, precondition_failed, snooze };
  kind_t kind = ok;
  std::string message;
  std::chrono::milliseconds delay{0}; // snooze: how long
  /// What the attempt produced, kept with it (job_runs.output) and shown by
  /// `leasehold job`, GET /jobs/ID and the dashboard; null for none. Kept
  /// up to --max-output-bytes of compact JSON (64 KiB); a larger output is
  /// kept as {"truncated": true, "bytes": N, "head": "..."}.
  nlohmann::json output;

  static handler_result success() { return {ok, {}, {}, {}}; }
  static handler_result success(nlohmann::json output) {
    handler_result r{ok, {}, {}, {}};
    r.output = std::move(output);
    return r;
  }
  /// The same result carrying an output (a failure's partial results).
  handler_result with_output(nlohmann::json out) && {
    output = std::move(out);
    return std::move(*this);
  }
  /// A failure worth retrying (with backoff, until attempts run out).
  static handler_result failure(std::string why) { return {error, std::move(why), {}, {}}; }
  /// The job can never succeed (bad payload, ...): fail it at once.
  static handler_result invalid(std::string why) {
    return {precondition_failed, std::move(why), {}, {}};
  }
  /// Not now: run again after `delay` (an upstream rate limit, a busy
  /// resource). Does not use up an attempt; a job that snoozes more than
  /// defaults::max_snoozes times is dead (snooze_limit).
  static handler_result snooze_for(std::chrono::milliseconds delay) {
    return {snooze, {}, delay, {}};
  }
};

using handler_fn = std::function<handler_result(job_context&)>;

/// Where a handler runs. `blocking` (the default) handlers get a thread of
/// the node's handler pool, so they may sleep, wait on I/O or run programs.
/// `non_blocking` handlers promise to return at once (pure computation);
/// they run on the executor actor's own thread, which saves two thread
/// hand-offs per job.
enum class handler_mode { blocking, non_blocking };

struct registered_handler {
  handler_fn fn;
  handler_mode mode = handler_mode::blocking;
  /// How long an attempt may run (blocking handlers): past it, the attempt
  /// ends with a `timeout` failure and the handler is told to cancel; its
  /// slot stays taken until it returns. Zero: the node's --attempt-timeout.
  std::chrono::milliseconds timeout{0};
};

/// Maps job types to handlers. Filled before the node starts, then read-only.
class handler_registry {
public:
  void add(const std::string& type, handler_fn fn,
           handler_mode mode = handler_mode::blocking,
           std::chrono::milliseconds timeout = std::chrono::milliseconds{0});
  const registered_handler* find(const std::string& type) const;
  std::vector<std::string> types() const;

private:
  std::map<std::string, registered_handler> handlers_;
};

/// Adds `noop`, `sleep` ({"ms": N}, honours cancellation, reports its
/// progress every 250 ms), `echo` (succeeds with its payload as output),
/// `fanout` and `fail` ({"message": "..."}: always fails with that message).
/// noop, echo, fanout and fail are non-blocking.
void add_builtin_handlers(handler_registry& registry);

/// The exit status with which an external program snoozes its job (75,
/// EX_TEMPFAIL); the last line of its stdout is the delay ("30s").
inline constexpr int exec_snooze_exit_code = 75;

/// A handler that runs `program` with the payload on stdin: exit 0 is
/// success; exec_snooze_exit_code snoozes the job for the delay on the last
/// line of stdout; otherwise an error carrying the tail of its stderr. Its
/// stdout is the attempt's output (JSON if it parses, else text). It may
/// report progress by writing lines like "42 copied 42 of 100 files" to the
/// descriptor named in LEASEHOLD_PROGRESS_FD (3). The program is killed on
/// cancellation and after `timeout`. Its environment lacks the secret
/// variables (secret_env_names()) except those named in `pass_env`.
handler_fn make_exec_handler(std::string program,
                             std::chrono::milliseconds timeout,
                             std::vector<std::string> pass_env = {});

} // namespace leasehold
