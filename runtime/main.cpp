// leasehold: the command line. Subcommands migrate, node, enqueue, job.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/defaults.hpp"
#include "runtime/duration.hpp"
#include "runtime/exec_command.hpp"
#include "runtime/node.hpp"
#include "runtime/cli_enqueue.hpp"
#include "runtime/cli_observe.hpp"
#include "runtime/cli_runs.hpp"
#include "runtime/cli_schedule.hpp"
#include "runtime/cli_verify.hpp"
#include "runtime/log.hpp"
#include "runtime/secrets.hpp"
#include "runtime/text.hpp"
#include "runtime/version.hpp"

using namespace leasehold;

namespace {

// Every error is one line: what quotes input (a newline, 100 KB, invalid
// UTF-8) is cleaned and cut.
int fail(int code, const std::string& message) {
  std::cerr << "leasehold: " << one_line(redact_database_url(message), 500) << "\n";
  return code;
}

using cli::usage_error;
using cli::duration_option;
using cli::limits_option;
using cli::check_name_option;

struct node_options {
  node_config cfg;
  std::vector<std::string> queues;
  std::vector<std::string> execs;
  std::string heartbeat = format_duration(defaults::heartbeat_interval);
  std::string ttl = format_duration(defaults::lease_ttl);
  std::string poll = format_duration(defaults::poll_interval);
  std::string stop = format_duration(defaults::stop_timeout);
  std::string reap = format_duration(defaults::reap_interval);
  std::string prefetch_horizon = format_duration(defaults::prefetch_horizon);
  std::string prefetch_max_hold = format_duration(defaults::prefetch_max_hold);
  std::string completion_linger = format_duration(defaults::completion_linger);
  std::string schedule_interval = format_duration(defaults::schedule_interval);
  std::string stale = format_duration(defaults::stale_after);
  std::string alert_lag = format_duration(defaults::alert_lag);
  std::string retry_base = format_duration(defaults::retry_base);
  std::string retry_cap = format_duration(defaults::retry_cap);
  std::string exec_timeout = format_duration(defaults::exec_timeout);
  std::string attempt_timeout = format_duration(defaults::attempt_timeout);
  std::string trace_policy = "log";
  std::string log_level = "info";
  bool no_migrate = false;
  std::string http_token_file, http_read_token_file;
  std::vector<std::string> exec_env_pass;
};

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

int run_workers(const std::string& url, bool all, bool json) {
  store db{url};
  auto workers = nlohmann::json::parse(db.instances_json(all));
  auto drift = nlohmann::json::parse(db.version_drift_json());
  if (json) {
    std::cout << nlohmann::json{{"workers", workers}, {"version_drift", drift}}.dump(2)
              << "\n";
    return 0;
  }
  std::printf("%-50s %-12s %-9s %-16s %-8s %-12s %s\n", "WORKER", "TYPE", "STATUS",
              "HOST", "PID", "VERSION", "HEARTBEAT AGE");
  for (const auto& w : workers) {
    auto type = w["worker_type"].get<std::string>()
                + (w["singleton"].get<bool>() ? "*" : "");
    std::printf("%-50s %-12s %-9s %-16s %-8d %-12s %ss\n",
                w["worker_id"].get<std::string>().c_str(), type.c_str(),
                w["status"].get<std::string>().c_str(),
                w["hostname"].get<std::string>().c_str(), w["pid"].get<int>(),
                w["version"].get<std::string>().c_str(),
                w["heartbeat_age_seconds"].dump().c_str());
  }
  for (const auto& d : drift)
    std::printf("VERSION DRIFT: %s runs %s\n",
                d["worker_type"].get<std::string>().c_str(),
                d["versions"].dump().c_str());
  return 0;
}

int run_job(const std::string& url, int64_t id) {
  store db{url};
  auto text = db.job_json(id);
  if (!text)
    throw usage_error("no job with id " + std::to_string(id));
  std::cout << nlohmann::json::parse(*text).dump(2) << "\n";
  return 0;
}

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
  cmd->callback([&] { run = [&] { return run_node(url, o); }; });
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"leasehold: a durable job runtime on PostgreSQL"};
  app.require_subcommand(1);
  app.fallthrough(); // global options (--database-url) also after the command
  std::string url;
  if (const char* env = std::getenv("DATABASE_URL"))
    url = env;
  auto* url_opt = app.add_option("--database-url", url,
                 "PostgreSQL URL (default: $DATABASE_URL)");
  std::string url_file;
  app.add_option("--database-url-file", url_file,
                 "File whose first line is the PostgreSQL URL (kept out of ps)")
    ->excludes(url_opt);
  std::function<int()> run;

  app.add_subcommand("migrate", "Apply pending schema migrations")
    ->callback([&] {
      run = [&] {
        store db{url};
        std::cout << "applied " << db.migrate() << " migrations\n";
        return 0;
      };
    });

  node_options node_opts;
  add_node_command(app, url, node_opts, run);

  cli::enqueue_options enq;
  cli::add_enqueue_command(app, url, enq, run);
  cli::schedule_options sched;
  cli::add_schedule_commands(app, url, sched, run);

  bool workers_all = false, workers_json = false;
  auto* w = app.add_subcommand("workers", "List worker instances (* = singleton)");
  w->add_flag("--all", workers_all, "Include STOPPED instances");
  w->add_flag("--json", workers_json, "Print JSON");
  w->callback([&] { run = [&] { return run_workers(url, workers_all, workers_json); }; });

  app.add_subcommand("version", "Print the version and build metadata")
    ->callback([&] {
      run = [&] {
        std::cout << nlohmann::json{{"version", runtime_version()},
                                    {"metadata", build_metadata()}}.dump(2)
                  << "\n";
        return 0;
      };
    });

  cli::observe_options observe_opts;
  cli::add_observe_commands(app, url, observe_opts, run);
  cli::run_options run_opts;
  cli::add_run_commands(app, url, run_opts, run);

  cli::verify_cli_options verify_opts;
  cli::add_verify_command(app, url, verify_opts, run);

  int64_t job_id = 0;
  auto* j = app.add_subcommand("job", "Print a job and its runs as JSON");
  j->add_option("id", job_id, "Job id")->required();
  j->callback([&] { run = [&] { return run_job(url, job_id); }; });

  // CLI11 would only say "a subcommand is required": name the culprit.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto* sub : app.get_subcommands({}))
      known = known || sub->get_name() == argv[1];
    if (!known)
      return fail(2, "unknown command '" + std::string{argv[1]} + "' (try --help)");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(2, e.what());
  }
  // Secret files are read before anything starts; a bad one is a usage error.
  try {
    if (!url_file.empty())
      url = read_secret_file("database-url-file", url_file);
    if (!node_opts.http_token_file.empty())
      node_opts.cfg.http_token = read_secret_file("http-token-file", node_opts.http_token_file);
    if (!node_opts.http_read_token_file.empty())
      node_opts.cfg.http_read_token
        = read_secret_file("http-read-token-file", node_opts.http_read_token_file);
  } catch (const std::invalid_argument& e) {
    return fail(2, e.what());
  }
  try {
    bool needs_db = !app.got_subcommand("version") && observe_opts.node_url.empty();
    if (url.empty() && needs_db)
      throw usage_error("no database: pass --database-url or set DATABASE_URL");
    return run();
  } catch (const std::exception& e) {
    return fail(1, e.what());
  }
}
