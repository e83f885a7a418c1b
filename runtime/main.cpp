// leasehold: the command line. Each command group lives in runtime/cli_*.cpp;
// here: global options, migrate, workers, job, and one-line errors.
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
#include "runtime/cli_node.hpp"
#include "runtime/cli_cluster.hpp"
#include "runtime/cli_observe.hpp"
#include "runtime/cli_runs.hpp"
#include "runtime/cli_prune.hpp"
#include "runtime/cli_queue.hpp"
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

  cli::node_options node_opts;
  cli::add_node_command(app, url, node_opts, run);

  cli::enqueue_options enq;
  cli::add_enqueue_command(app, url, enq, run);
  cli::schedule_options sched;
  cli::add_schedule_commands(app, url, sched, run);
  cli::queue_options queue;
  cli::add_queue_commands(app, url, queue, run);
  cli::prune_options prune;
  cli::add_prune_command(app, url, prune, run);

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
  cli::cluster_options cluster_opts;
  cli::add_cluster_command(app, url, cluster_opts, run);
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
    bool needs_db = !app.got_subcommand("version") && observe_opts.node_url.empty()
                    && !(app.got_subcommand("cluster") && !cluster_opts.node.empty());
    if (url.empty() && needs_db)
      throw usage_error("no database: pass --database-url or set DATABASE_URL");
    return run();
  } catch (const std::exception& e) {
    return fail(1, e.what());
  }
}
