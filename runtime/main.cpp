// leasehold: the command line. Subcommands migrate, node, enqueue, job.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/defaults.hpp"
#include "runtime/duration.hpp"
#include "runtime/health.hpp"
#include "runtime/node.hpp"
#include "runtime/bulk_file.hpp"
#include "runtime/cli_enqueue.hpp"
#include "runtime/log.hpp"
#include "runtime/version.hpp"

using namespace leasehold;

namespace {

using cli::usage_error;
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
  std::string stale = format_duration(defaults::stale_after);
  std::string alert_lag = format_duration(defaults::alert_lag);
  std::string retry_base = format_duration(defaults::retry_base);
  std::string retry_cap = format_duration(defaults::retry_cap);
  std::string exec_timeout = format_duration(defaults::exec_timeout);
  std::string attempt_timeout = format_duration(defaults::attempt_timeout);
  std::string trace_policy = "log";
  std::string log_level = "info";
  bool no_migrate = false;
};

std::chrono::milliseconds duration_option(const std::string& name,
                                          const std::string& text) {
  try {
    return parse_duration(text);
  } catch (const std::invalid_argument& e) {
    throw usage_error("--" + name + ": " + e.what());
  }
}

std::pair<std::string, std::string> split_pair(const std::string& flag,
                                               const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos)
    return {text, ""};
  if (eq == 0)
    throw usage_error("--" + flag + " '" + text + "': name missing before '='");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::shared_ptr<handler_registry> make_handlers(const node_options& o) {
  auto handlers = std::make_shared<handler_registry>();
  add_builtin_handlers(*handlers);
  auto timeout = duration_option("exec-timeout", o.exec_timeout);
  for (const auto& spec : o.execs) {
    auto [type, program] = split_pair("exec", spec);
    if (program.empty())
      throw usage_error("--exec '" + spec + "': expected TYPE=/path/to/program");
    if (access(program.c_str(), X_OK) != 0)
      throw usage_error("--exec '" + spec + "': " + program
                        + " is not an executable file");
    // The attempt's timeout cancels it, which kills the program; the
    // handler's own kill, a second later, is only a backstop.
    handlers->add(type, make_exec_handler(program, timeout + std::chrono::seconds{1}),
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
  c.stale_after = duration_option("stale-after", o.stale);
  c.alert_lag = duration_option("alert-lag", o.alert_lag);
  if (c.http_token.empty())
    if (const char* t = std::getenv("LEASEHOLD_HTTP_TOKEN"))
      c.http_token = t;
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

struct observe_options {
  std::string node_url; // read from a node's HTTP bridge instead of the DB
  bool json = false;
  dead_jobs_filter filter;
  std::string type, correlation_id;
  std::string lease_ttl = format_duration(defaults::lease_ttl);
  std::string stale = format_duration(defaults::stale_after);
  std::string stop = format_duration(defaults::stop_timeout);
  std::string alert_lag = format_duration(defaults::alert_lag);
  int64_t alert_dead = defaults::alert_dead;
};

// GET path from a node's HTTP bridge; the body must be JSON.
nlohmann::json http_get(const std::string& base, const std::string& path) {
  httplib::Client client{base};
  client.set_connection_timeout(5);
  client.set_read_timeout(15);
  auto res = client.Get(path.c_str());
  if (!res)
    throw usage_error("cannot reach " + base + ": " + httplib::to_string(res.error()));
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200)
    throw usage_error(base + path + ": HTTP " + std::to_string(res->status) + " "
                      + (body.is_object() ? body.value("error", "") : ""));
  return body;
}

std::string query_string(const observe_options& o) {
  std::string q = "?limit=" + std::to_string(o.filter.limit)
                  + "&since_hours=" + std::to_string(o.filter.since_hours);
  if (!o.type.empty())
    q += "&type=" + httplib::detail::encode_query_param(o.type);
  if (!o.correlation_id.empty())
    q += "&correlation_id=" + httplib::detail::encode_query_param(o.correlation_id);
  return q;
}

void print_health(const nlohmann::json& h) {
  std::printf("status: %s   version: %s\n", h["status"].get<std::string>().c_str(),
              h["runtime_version"].get<std::string>().c_str());
  for (const auto& a : h["alerts"])
    std::printf("  %-8s %-18s %s\n", a["severity"].get<std::string>().c_str(),
                a["code"].get<std::string>().c_str(),
                a["message"].get<std::string>().c_str());
  std::printf("queued %s %s | running %s (avg age %ss) | stuck %s | dead 24h %s"
              " | lag %ss | policy violations 24h %s\n",
              h["jobs_queued"]["total"].dump().c_str(),
              h["jobs_queued"]["by_type"].dump().c_str(),
              h["jobs_processing"]["count"].dump().c_str(),
              h["jobs_processing"]["avg_age_seconds"].dump().c_str(),
              h["stuck_count"].dump().c_str(), h["dead_last_24h"].dump().c_str(),
              h["estimated_lag_seconds"].dump().c_str(),
              h["policy_violations_last_24h"].dump().c_str());
  const auto& w = h["workers"];
  std::printf("workers: active %s, stale %s, hung stopping %s, versions %s\n",
              w["active"].dump().c_str(), w["stale"].dump().c_str(),
              w["hung_stopping"].dump().c_str(), w["versions"].dump().c_str());
  if (h.contains("supervised_failures"))
    std::printf("supervised failures on this node: %s\n",
                h["supervised_failures"].dump().c_str());
}

int run_health(const std::string& url, const observe_options& o) {
  nlohmann::json h;
  if (!o.node_url.empty()) {
    h = http_get(o.node_url, "/health");
  } else {
    store db{url};
    observe_thresholds t{duration_option("lease-ttl", o.lease_ttl).count(),
                         duration_option("stale-after", o.stale).count(),
                         duration_option("stop-timeout", o.stop).count()};
    h = nlohmann::json::parse(db.health_json(t));
    h["runtime_version"] = runtime_version();
    alert_thresholds a;
    a.lag_critical_seconds = duration_option("alert-lag", o.alert_lag).count() / 1000;
    a.dead_warning = o.alert_dead;
    a.lease_ttl_ms = t.lease_ttl_ms;
    add_alerts(h, a);
  }
  if (o.json)
    std::cout << h.dump(2) << "\n";
  else
    print_health(h);
  return h["status"] == "critical" ? 2 : 0;
}

int run_dead_jobs(const std::string& url, observe_options o) {
  if (o.filter.limit < 1 || o.filter.limit > 1000)
    throw usage_error("--limit must be from 1 to 1000");
  if (o.filter.since_hours < 1 || o.filter.since_hours > 24 * 366)
    throw usage_error("--since-hours must be from 1 to 8784");
  nlohmann::json d;
  if (!o.node_url.empty()) {
    d = http_get(o.node_url, "/dead-jobs" + query_string(o));
  } else {
    if (!o.type.empty())
      o.filter.type = o.type;
    if (!o.correlation_id.empty())
      o.filter.correlation_id = o.correlation_id;
    store db{url};
    d = nlohmann::json::parse(db.dead_jobs_json(o.filter));
  }
  std::cout << d.dump(2) << "\n";
  return 0;
}

int run_chain(const std::string& url, const observe_options& o) {
  nlohmann::json c;
  if (!o.node_url.empty())
    c = http_get(o.node_url, "/jobs?correlation_id="
                               + httplib::detail::encode_query_param(o.correlation_id));
  else
    c = nlohmann::json::parse(store{url}.chain_json(o.correlation_id));
  if (c.empty())
    throw usage_error("no jobs with correlation id " + o.correlation_id);
  std::cout << c.dump(2) << "\n";
  return 0;
}

void add_observe_commands(CLI::App& app, const std::string& url, observe_options& o,
                          std::function<int()>& run) {
  auto* h = app.add_subcommand("health", "What is broken and where: figures and alerts"
                                         " (exit 2 when critical)");
  h->add_option("--url", o.node_url, "Ask a node's HTTP bridge, e.g. http://127.0.0.1:8080");
  h->add_flag("--json", o.json, "Print the JSON document");
  h->add_option("--lease-ttl", o.lease_ttl, "Lease TTL the stuck count uses")->capture_default_str();
  h->add_option("--stale-after", o.stale, "Silence after which a worker is stale")->capture_default_str();
  h->add_option("--stop-timeout", o.stop, "STOPPING longer than this is hung")->capture_default_str();
  h->add_option("--alert-lag", o.alert_lag, "Critical queue lag")->capture_default_str();
  h->add_option("--alert-dead", o.alert_dead, "Dead jobs in 24h above which to warn")->capture_default_str();
  h->callback([&] { run = [&] { return run_health(url, o); }; });

  auto* d = app.add_subcommand("dead-jobs", "Dead jobs with reasons, newest first (JSON)");
  d->add_option("--url", o.node_url, "Ask a node's HTTP bridge");
  d->add_option("--limit", o.filter.limit, "At most this many jobs (1..1000)")->capture_default_str();
  d->add_option("--since-hours", o.filter.since_hours, "Died within this many hours")->capture_default_str();
  d->add_option("--type", o.type, "Only this job type");
  d->add_option("--correlation-id", o.correlation_id, "Only this chain");
  d->callback([&] { run = [&] { return run_dead_jobs(url, o); }; });

  auto* c = app.add_subcommand("chain", "Every job of a correlation id, in order, with runs");
  c->add_option("correlation_id", o.correlation_id, "Correlation id")->required();
  c->add_option("--url", o.node_url, "Ask a node's HTTP bridge");
  c->callback([&] { run = [&] { return run_chain(url, o); }; });
}

struct run_options {
  run_spec spec;
  std::string partitions_file;
  int64_t id = 0;
  std::string partition;
  bool failed = false;
  bool json = false;
  int64_t max_payload_bytes = static_cast<int64_t>(defaults::max_payload_bytes);
};

int run_create(const std::string& url, run_options& o) {
  check_name_option("--type", o.spec.type);
  check_name_option("--on-complete", o.spec.on_complete_type);
  check_name_option("--label", o.spec.label);
  std::ifstream in{o.partitions_file};
  if (!in)
    throw usage_error("--partitions " + o.partitions_file + ": cannot open");
  try {
    o.spec.partitions = read_partitions(in, limits_option(o.max_payload_bytes));
  } catch (const std::invalid_argument& e) {
    throw usage_error(o.partitions_file + ":" + e.what());
  }
  if (o.spec.max_attempts && *o.spec.max_attempts < 1)
    throw usage_error("--max-attempts must be at least 1");
  std::cout << store{url}.create_run(o.spec) << "\n";
  return 0;
}

int run_retry(const std::string& url, const run_options& o) {
  if (o.partition.empty() == !o.failed)
    throw usage_error("run retry: give exactly one of --partition KEY or --failed");
  auto keys = store{url}.retry_run(o.id, o.failed ? std::nullopt
                                                  : std::optional<std::string>{o.partition});
  if (!keys)
    throw usage_error("no run with id " + std::to_string(o.id));
  if (keys->empty()) {
    std::cout << "nothing to retry: no matching partition is failed\n";
    return 0;
  }
  std::cout << "queued again:";
  for (const auto& k : *keys)
    std::cout << " " << k;
  std::cout << "\n";
  return 0;
}

int run_show(const std::string& url, const run_options& o) {
  auto text = store{url}.run_json(o.id, true);
  if (!text)
    throw usage_error("no run with id " + std::to_string(o.id));
  auto r = nlohmann::json::parse(*text);
  if (o.json) {
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  const auto& c = r["counts"];
  std::printf("run %s (%s) %s: expected %s, queued %s, running %s, succeeded %s,"
              " failed %s\n",
              r["id"].dump().c_str(), r["type"].get<std::string>().c_str(),
              r["status"].get<std::string>().c_str(), c["expected"].dump().c_str(),
              c["queued"].dump().c_str(), c["running"].dump().c_str(),
              c["succeeded"].dump().c_str(), c["failed"].dump().c_str());
  for (const auto& p : r["partitions"])
    std::printf("  %-20s %-10s attempts %-3s %s\n", p["key"].get<std::string>().c_str(),
                p["status"].get<std::string>().c_str(), p["attempts"].dump().c_str(),
                p["last_error"].is_string() ? p["last_error"].get<std::string>().c_str() : "");
  return 0;
}

void add_run_commands(CLI::App& app, const std::string& url, run_options& o,
                      std::function<int()>& run) {
  auto* r = app.add_subcommand("run", "Runs: one logical job fanned out into partitions");
  r->require_subcommand(1);
  auto* c = r->add_subcommand("create", "Create a run and its partitions; prints its id");
  c->add_option("--type", o.spec.type, "Job type of the partitions")->required();
  c->add_option("--partitions", o.partitions_file,
                "NDJSON file, one {\"key\": ..., \"payload\": {...}} per line")
    ->required();
  c->add_option("--on-complete", o.spec.on_complete_type,
                "Job type enqueued once when every partition has finished");
  c->add_option("--max-attempts", o.spec.max_attempts, "Attempts per partition");
  c->add_option("--label", o.spec.label, "A name for people");
  c->add_option("--max-payload-bytes", o.max_payload_bytes,
                "Largest partition payload (compact JSON)")->capture_default_str();
  c->callback([&] { run = [&] { return run_create(url, o); }; });
  auto* t = r->add_subcommand("retry", "Queue failed partitions again (once)");
  t->add_option("run", o.id, "Run id")->required();
  t->add_option("--partition", o.partition, "Only this partition key");
  t->add_flag("--failed", o.failed, "Every failed partition");
  t->callback([&] { run = [&] { return run_retry(url, o); }; });
  auto* s = r->add_subcommand("show", "A run's status, derived counts and partitions");
  s->add_option("run", o.id, "Run id")->required();
  s->add_flag("--json", o.json, "Print JSON");
  s->callback([&] { run = [&] { return run_show(url, o); }; });
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
                  "TYPE=/path/to/program: run a program per job (repeatable)");
  cmd->add_option("--exec-timeout", o.exec_timeout,
                  "Kill external programs and end their attempt (timeout) after")
    ->capture_default_str();
  cmd->add_option("--attempt-timeout", o.attempt_timeout,
                  "End an attempt (timeout, retried) that runs longer; the slot"
                  " stays taken until its handler returns")
    ->capture_default_str();
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
  cmd->add_option("--http-token", o.cfg.http_token,
                  "Bearer token enabling HTTP writes (or $LEASEHOLD_HTTP_TOKEN)");
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
  app.add_option("--database-url", url,
                 "PostgreSQL URL (default: $DATABASE_URL)");
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

  observe_options observe_opts;
  add_observe_commands(app, url, observe_opts, run);
  run_options run_opts;
  add_run_commands(app, url, run_opts, run);

  int64_t job_id = 0;
  auto* j = app.add_subcommand("job", "Print a job and its runs as JSON");
  j->add_option("id", job_id, "Job id")->required();
  j->callback([&] { run = [&] { return run_job(url, job_id); }; });

  // CLI11 would only say "a subcommand is required": name the culprit.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto* sub : app.get_subcommands({}))
      known = known || sub->get_name() == argv[1];
    if (!known) {
      std::cerr << "leasehold: unknown command '" << argv[1]
                << "' (try --help)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "leasehold: " << e.what() << "\n";
    return 2;
  }
  try {
    bool needs_db = !app.got_subcommand("version") && observe_opts.node_url.empty();
    if (url.empty() && needs_db)
      throw usage_error("no database: pass --database-url or set DATABASE_URL");
    return run();
  } catch (const std::exception& e) {
    std::cerr << "leasehold: " << redact_database_url(e.what()) << "\n";
    return 1;
  }
}
