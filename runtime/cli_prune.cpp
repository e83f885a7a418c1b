// `leasehold prune`: one retention pass now, or (--dry-run) what it would
// delete; the same store::prune a node's pruner runs, under the same lock.
#include "runtime/cli_prune.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/cli_enqueue.hpp"
#include "runtime/defaults.hpp"
#include "runtime/duration.hpp"
#include "runtime/text.hpp"

namespace leasehold::cli {

namespace {

constexpr int64_t day_ms = 86400000;

int64_t retention_option(const std::string& name, const std::string& text) {
  if (text == "0" || text == "off" || text == "forever")
    return 0;
  try {
    return parse_duration(text).count();
  } catch (const std::invalid_argument& e) {
    throw usage_error("--" + name + ": " + e.what() + "; or 0, off, forever to keep");
  }
}

nlohmann::json to_json(const prune_report& r, bool dry) {
  return {{"dry_run", dry},        {"elected", r.elected},     {"succeeded", r.succeeded},
          {"dead", r.dead},        {"runs", r.runs},           {"attempt_rows", r.attempts},
          {"instances", r.instances}, {"violations", r.violations},
          {"unique_keys", r.unique_keys},
          {"batches", r.batches},  {"took_ms", r.took_ms}};
}

int run_prune(const std::string& url, const prune_options& o) {
  retention_policy base;
  base.batch = o.batch;
  if (base.batch < 1 || base.batch > 100000)
    throw usage_error("--batch " + std::to_string(o.batch) + ": must be from 1 to 100000");
  base.budget_ms = 0; // until done
  base.pause_ms = duration_option("pause", o.pause).count();
  if (base.pause_ms > 10000)
    throw usage_error("--pause " + o.pause + ": must be at most 10s");
  base.share_percent = share_option("share", o.share);
  const auto policy = parse_retention(o.retention, base);
  store db{url};
  const auto r = db.prune(policy, o.dry_run);
  if (o.json) {
    std::cout << to_json(r, o.dry_run).dump() << "\n";
    return 0;
  }
  if (!r.elected) {
    std::cout << "another node is pruning now; nothing done (try again later)\n";
    return 0;
  }
  std::cout << (o.dry_run ? "would delete" : "deleted") << ": " << r.succeeded
            << " succeeded jobs, " << r.dead << " dead jobs, " << r.runs << " runs ("
            << r.attempts << " attempt rows), " << r.instances << " stopped instances, "
            << r.violations << " policy violations, " << r.unique_keys
            << " unique keys past their window";
  if (o.dry_run)
    std::cout << "\n";
  else
    std::cout << " in " << r.batches << " batches, " << r.took_ms << " ms\n";
  return 0;
}

} // namespace

int32_t share_option(const std::string& name, const std::string& text) {
  auto digits = text;
  if (!digits.empty() && digits.back() == '%')
    digits.pop_back();
  const bool numeric = !digits.empty() && digits.size() <= 3
                       && digits.find_first_not_of("0123456789") == std::string::npos;
  const int value = numeric ? std::stoi(digits) : 0;
  if (value < 1 || value > 100)
    throw usage_error("--" + name + " '" + text + "': must be a percentage from 1% to 100%");
  return value;
}

retention_options::retention_options()
  : succeeded(format_retention(defaults::retention::succeeded.count())),
    dead(format_retention(defaults::retention::dead.count())),
    runs(format_retention(defaults::retention::runs.count())),
    instances(format_retention(defaults::retention::instances.count())),
    violations(format_retention(defaults::retention::violations.count())) {}

std::string format_retention(int64_t ms) {
  if (ms == 0)
    return "forever";
  if (ms % day_ms == 0)
    return std::to_string(ms / day_ms) + "d";
  return format_duration(std::chrono::milliseconds{ms});
}

void add_retention_options(CLI::App& cmd, retention_options& o) {
  const char* keep = " (0, off or forever: keep)";
  cmd.add_option("--retain-succeeded", o.succeeded,
                 std::string{"Keep succeeded jobs this long after they end"} + keep)
    ->capture_default_str();
  cmd.add_option("--retain-dead", o.dead,
                 std::string{"Keep failed and cancelled jobs this long after they end"} + keep)
    ->capture_default_str();
  cmd.add_option("--retain-runs", o.runs,
                 std::string{"Keep runs, with all their partitions, this long after they"
                             " complete"} + keep)
    ->capture_default_str();
  cmd.add_option("--retain-instances", o.instances,
                 std::string{"Keep STOPPED worker instances this long"} + keep)
    ->capture_default_str();
  cmd.add_option("--retain-violations", o.violations,
                 std::string{"Keep trace-policy violations this long"} + keep)
    ->capture_default_str();
}

retention_policy parse_retention(const retention_options& o, retention_policy base) {
  base.succeeded_ms = retention_option("retain-succeeded", o.succeeded);
  base.dead_ms = retention_option("retain-dead", o.dead);
  base.runs_ms = retention_option("retain-runs", o.runs);
  base.instances_ms = retention_option("retain-instances", o.instances);
  base.violations_ms = retention_option("retain-violations", o.violations);
  return base;
}

void add_prune_command(CLI::App& app, const std::string& url, prune_options& o,
                       std::function<int()>& run) {
  auto* cmd = app.add_subcommand(
    "prune", "Delete expired history now (one node at a time; see --retain-*)");
  add_retention_options(*cmd, o.retention);
  cmd->add_flag("--dry-run", o.dry_run, "Count what would be deleted; delete nothing");
  cmd->add_flag("--json", o.json, "Print the counts as JSON");
  cmd->add_option("--batch", o.batch, "Rows per batch (each its own transaction)")
    ->capture_default_str();
  cmd->add_option("--pause", o.pause,
                  "Rest after each batch (e.g. 200ms, as nodes do), to spare a busy database")
    ->capture_default_str();
  cmd->add_option("--share", o.share,
                  "At most this share of the time in batches (10% rests 9 times each"
                  " batch's time, as nodes do)")
    ->capture_default_str();
  cmd->callback([&] { run = [&] { return run_prune(url, o); }; });
}

} // namespace leasehold::cli
