// The `node` command: options, handlers and the node's life until a signal.
#include "runtime/cli_node.hpp"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/cli_cluster.hpp"
#include "runtime/cli_enqueue.hpp"
#include "runtime/defaults.hpp"
#include "runtime/duration.hpp"
#include "runtime/exec_command.hpp"
#include "runtime/log.hpp"
#include "runtime/node.hpp"
#include "runtime/secrets.hpp"
#include "runtime/text.hpp"

namespace leasehold::cli {


namespace {

std::pair<std::string, std::string> split_pair(const std::string& flag,
                                               const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos)
    return {text, ""};
  if (eq == 0)
    throw usage_error("--" + flag + " '" + one_line(text) + "': name missing before '='");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::shared_ptr<handler_registry> make_handlers(const node_options& o) {
  auto handlers = std::make_shared<handler_registry>();
  add_builtin_handlers(*handlers);
  auto timeout = duration_option("exec-timeout", o.exec_timeout);
  for (const auto& spec : o.execs) {
    exec_spec e;
    try {
      e = parse_exec_spec(spec);
    } catch (const std::invalid_argument& why) {
      throw usage_error(why.what());
    }
    // The attempt's timeout cancels it, which kills the program; the
    // handler's own kill, a second later, is only a backstop.
    handlers->add(e.type, make_exec_handler(e.argv, timeout + std::chrono::seconds{1},
                                            o.exec_env_pass),
                  handler_mode::blocking, timeout);
  }
  return handlers;
}

void fill_node_config(node_options& o) {
  auto& c = o.cfg;
  for (const auto& q : o.queues) {
    auto [name, slots] = split_pair("queue", q);
    int32_t n = c.concurrency;
    if (!slots.empty()) {
      try {
        size_t used = 0;
        n = std::stoi(slots, &used);
        if (used != slots.size())
          throw std::invalid_argument("trailing text");
      } catch (const std::exception&) {
        throw usage_error("--queue '" + q + "': slots must be a number");
      }
    }
    c.queues[name] = n;
  }
  c.heartbeat_interval = duration_option("heartbeat-interval", o.heartbeat);
  c.lease_ttl = duration_option("lease-ttl", o.ttl);
  c.poll_interval = duration_option("poll-interval", o.poll);
  c.stop_timeout = duration_option("stop-timeout", o.stop);
  c.reap_interval = duration_option("reap-interval", o.reap);
  c.prefetch_horizon = duration_option("prefetch-horizon", o.prefetch_horizon);
  c.prefetch_max_hold = duration_option("prefetch-max-hold", o.prefetch_max_hold);
  c.completion_linger = duration_option("completion-linger", o.completion_linger);
  c.schedule_interval = duration_option("schedule-interval", o.schedule_interval);
  c.retention = parse_retention(o.retention, c.retention);
  c.prune_interval = duration_option("prune-interval", o.prune_interval);
  c.retention.pause_ms = duration_option("prune-pause", o.prune_pause).count();
  c.retention.share_percent = share_option("prune-share", o.prune_share);
  c.stale_after = duration_option("stale-after", o.stale);
  c.alert_lag = duration_option("alert-lag", o.alert_lag);
  if (c.http_token.empty())
    if (const char* t = std::getenv("LEASEHOLD_HTTP_TOKEN"))
      c.http_token = t;
  if (c.http_read_token.empty())
    if (const char* t = std::getenv("LEASEHOLD_HTTP_READ_TOKEN"))
      c.http_read_token = t;
  c.retry_base = duration_option("retry-base", o.retry_base);
  c.retry_cap = duration_option("retry-cap", o.retry_cap);
  c.attempt_timeout = duration_option("attempt-timeout", o.attempt_timeout);
  c.cluster.heartbeat = duration_option("cluster-heartbeat", o.cluster_heartbeat);
  if (o.trace_policy != "log" && o.trace_policy != "strict")
    throw usage_error("--trace-policy '" + o.trace_policy
                      + "': must be log or strict");
  c.trace_strict = o.trace_policy == "strict";
  c.migrate = !o.no_migrate;
}

int run_node(const std::string& url, node_options& o) {
  o.cfg.database_url = url;
  fill_node_config(o);
  try {
    o.cfg.validate();
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
  auto handlers = make_handlers(o);
  // Block SIGINT/SIGTERM before any thread starts, so that CAF's threads
  // inherit the mask and only our sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  node n{o.cfg, handlers};
  log::init(n.worker_id(), log::parse_level(o.log_level));
  try {
    n.start();
  } catch (const singleton_conflict& e) {
    throw usage_error(e.what());
  }
  // First signal: graceful stop. Second: stop now, releasing every lease.
  std::thread([&n, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    log::info("signal received: stopping gracefully", {{"signal", sig}});
    n.interrupt_gracefully();
    sigwait(&signals, &sig);
    log::warn("second signal: stopping now", {{"signal", sig}});
    n.interrupt();
  }).detach();
  auto reason = n.wait();
  n.kill(); // joins what is left; the supervisor has already ended
  if (reason.empty())
    return 0;
  log::critical("node ended abnormally", {{"reason", reason}});
  return 3;
}

} // namespace

void add_node_command(CLI::App& app, const std::string& url, node_options& o,
                      std::function<int()>& run) {
  auto* cmd = app.add_subcommand("node", "Run a node: claim and run jobs");
  cmd->add_option("--worker-base", o.cfg.worker_base,
                  "Worker id prefix; the id is {base}-{uuid}")
    ->capture_default_str();
  cmd->add_option("--worker-type", o.cfg.worker_type, "This node's worker type")
    ->capture_default_str();
  cmd->add_flag("--singleton", o.cfg.singleton,
                "At most one active instance of this worker type");
  cmd->add_option("--stale-after", o.stale,
                  "Instances silent this long are presumed dead")
    ->capture_default_str();
  cmd->add_option("--concurrency", o.cfg.concurrency,
                  "Attempts run at once (default queue)")
    ->capture_default_str();
  cmd->add_option("--prefetch", o.cfg.prefetch,
                  "Jobs claimed ahead of the handlers per queue, at most (0: none)")
    ->capture_default_str();
  cmd->add_option("--prefetch-horizon", o.prefetch_horizon,
                  "Claim ahead about this much work at the rate jobs start"
                  " (0: always --prefetch)")
    ->capture_default_str();
  cmd->add_option("--prefetch-max-hold", o.prefetch_max_hold,
                  "Give back a claimed job that waited this long for a slot")
    ->capture_default_str();
  cmd->add_option("--completion-linger", o.completion_linger,
                  "A finished job's outcome waits this long for others to share"
                  " its write (0ms: none)")
    ->capture_default_str();
  cmd->add_option("--schedule-interval", o.schedule_interval,
                  "How often to enqueue due schedule ticks (0ms: leave them to"
                  " other nodes)")
    ->capture_default_str();
  add_retention_options(*cmd, o.retention);
  cmd->add_option("--prune-interval", o.prune_interval,
                  "How often to delete expired history, one node at a time"
                  " (0ms: leave it to other nodes)")
    ->capture_default_str();
  cmd->add_option("--prune-pause", o.prune_pause,
                  "Rest after each batch of pruning, so that it takes a small share of"
                  " the database (0ms: none)")
    ->capture_default_str();
  cmd->add_option("--prune-share", o.prune_share,
                  "At most this share of the time in pruning batches (1% to 100%): after a"
                  " batch, rest 9 times its time at 10%, so a busy database is spared more")
    ->capture_default_str();
  cmd->add_option("--queue", o.queues,
                  "NAME[=N]: serve queue NAME with N slots (repeatable)");
  cmd->add_option("--heartbeat-interval", o.heartbeat, "Lease renewal period")
    ->capture_default_str();
  cmd->add_option("--lease-ttl", o.ttl, "A lease not renewed for this long expires")
    ->capture_default_str();
  cmd->add_option("--poll-interval", o.poll, "Claim poll when idle (NOTIFY wakes sooner)")
    ->capture_default_str();
  cmd->add_option("--stop-timeout", o.stop, "Grace period for in-flight jobs on SIGTERM")
    ->capture_default_str();
  cmd->add_option("--reap-interval", o.reap, "How often expired leases are rescued")
    ->capture_default_str();
  cmd->add_option("--retry-base", o.retry_base, "First retry delay; doubles per attempt")
    ->capture_default_str();
  cmd->add_option("--retry-cap", o.retry_cap, "Longest retry delay")
    ->capture_default_str();
  cmd->add_option("--exec", o.execs,
                  "TYPE='/path/to/program [ARG...]': run a program per job, payload on"
                  " stdin, job in LEASEHOLD_* variables; quotes group words, no shell (repeatable)");
  cmd->add_option("--exec-timeout", o.exec_timeout,
                  "Kill external programs and end their attempt (timeout) after")
    ->capture_default_str();
  cmd->add_option("--attempt-timeout", o.attempt_timeout,
                  "End an attempt (timeout, retried) that runs longer; the slot"
                  " stays taken until its handler returns")
    ->capture_default_str();
  cmd->add_option("--execution-ledger", o.cfg.execution_ledger,
                  "Append a JSON line to this file when each handler starts and ends");
  cmd->add_option("--trace-policy", o.trace_policy,
                  "log or strict: what a success without trace_id does")
    ->capture_default_str();
  cmd->add_option("--trace-cutoff", o.cfg.trace_cutoff,
                  "Jobs created at/after this time need a trace_id")
    ->capture_default_str();
  cmd->add_option("--log-level", o.log_level, "debug, info, warn, error, critical")
    ->capture_default_str();
  cmd->add_flag("--no-migrate", o.no_migrate, "Do not apply migrations at start");
  cmd->add_option("--http-listen", o.cfg.http_listen,
                  "HOST:PORT of the health/dashboard endpoint, or off")
    ->capture_default_str();
  auto* token = cmd->add_option("--http-token", o.cfg.http_token,
                  "Bearer token enabling HTTP writes (or $LEASEHOLD_HTTP_TOKEN)");
  cmd->add_option("--http-token-file", o.http_token_file,
                  "File whose first line is the --http-token (kept out of ps)")
    ->excludes(token);
  auto* read_token = cmd->add_option("--http-read-token", o.cfg.http_read_token,
                  "Bearer token required by HTTP reads except /livez and /metrics"
                  " (or $LEASEHOLD_HTTP_READ_TOKEN); the write token also reads");
  cmd->add_option("--http-read-token-file", o.http_read_token_file,
                  "File whose first line is the --http-read-token")
    ->excludes(read_token);
  cmd->add_option("--cluster-listen", o.cfg.cluster.listen,
                  "IP:PORT where peers link to this node over CAF (port 0: any free"
                  " one), or off")
    ->capture_default_str();
  cmd->add_option("--cluster-advertise", o.cfg.cluster.advertise,
                  "IP[:PORT] peers connect to, when it differs from --cluster-listen");
  add_cluster_tls_options(*cmd, o.cfg.cluster, o.cluster_heartbeat);
  cmd->add_flag("--cluster-insecure", o.cfg.cluster.insecure,
                "Allow plain cluster links on an address other hosts can reach");
  cmd->add_flag("--cluster-test-v2", o.cfg.cluster.test_v2)->group(""); // tests only
  cmd->add_option("--exec-env-pass", o.exec_env_pass,
                  "NAME: let --exec programs see this secret variable (DATABASE_URL,"
                  " LEASEHOLD_HTTP_TOKEN, LEASEHOLD_HTTP_READ_TOKEN, PGPASSWORD; repeatable)");
  cmd->add_option("--alert-lag", o.alert_lag, "Queue lag that raises a critical alert")
    ->capture_default_str();
  cmd->add_option("--alert-dead", o.cfg.alert_dead,
                  "Dead jobs in 24h above which to warn")
    ->capture_default_str();
  cmd->add_option("--max-payload-bytes", o.cfg.max_payload_bytes,
                  "Largest payload over HTTP and of children (compact JSON)")
    ->capture_default_str();
  cmd->add_option("--max-output-bytes", o.cfg.max_output_bytes,
                  "Largest output an attempt keeps (compact JSON); a larger one"
                  " is kept as its head, marked truncated")
    ->capture_default_str();
  cmd->callback([&] { run = [&] { return run_node(url, o); }; });
}

} // namespace leasehold::cli
