// The `enqueue` command (one job from options, or a bulk NDJSON file) and
// the option checks the other commands share.
#include "runtime/cli_enqueue.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "persistence/store.hpp"
#include "runtime/bulk_file.hpp"
#include "runtime/duration.hpp"

namespace leasehold::cli {

std::chrono::milliseconds duration_option(const std::string& name, const std::string& text) {
  try {
    return parse_duration(text);
  } catch (const std::invalid_argument& e) {
    throw usage_error("--" + name + ": " + e.what());
  }
}

input_limits limits_option(int64_t max_payload_bytes) {
  try {
    return payload_limits(max_payload_bytes);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

// A name-like argument (type, queue, ...) the table would refuse.
void check_name_option(const std::string& option, const std::optional<std::string>& value) {
  try {
    if (value)
      check_name(option, *value);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

std::ifstream open_input(const std::string& flag, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw usage_error(flag + " " + path + ": cannot read: it is a directory");
  std::ifstream in{path};
  if (!in)
    throw usage_error(flag + " " + path + ": cannot open");
  return in;
}

namespace {

// "enqueued N jobs, ids A..B", and how many lines were duplicates (their
// unique key was held: by an existing job or an earlier line).
void print_enqueued(const std::vector<enqueued>& jobs) {
  std::vector<int64_t> created;
  for (const auto& j : jobs)
    if (!j.duplicate)
      created.push_back(j.id);
  auto duplicates = jobs.size() - created.size();
  if (created.empty())
    std::cout << "enqueued 0 jobs";
  else
    std::cout << "enqueued " << created.size() << " jobs, ids "
              << *std::min_element(created.begin(), created.end()) << ".."
              << *std::max_element(created.begin(), created.end());
  if (duplicates > 0)
    std::cout << "; " << duplicates << " duplicates (unique key held), not enqueued";
  std::cout << "\n";
}

int run_enqueue(const std::string& url, const enqueue_options& o) {
  auto limits = limits_option(o.max_payload_bytes);
  if (!o.file.empty()) {
    if (!o.type.empty())
      throw usage_error("enqueue: give either TYPE or --file, not both");
    auto in = open_input("--file", o.file);
    std::vector<new_job> jobs;
    try {
      jobs = read_bulk_jobs(in, limits);
    } catch (const std::invalid_argument& e) {
      throw usage_error(o.file + ":" + e.what());
    } catch (const std::runtime_error& e) {
      throw usage_error("--file " + o.file + ": " + e.what());
    }
    store db{url};
    print_enqueued(db.enqueue_many(jobs));
    return 0;
  }
  if (o.type.empty())
    throw usage_error("enqueue: TYPE is required (or --file FILE)");
  new_job job;
  job.type = o.type;
  check_name_option("type", o.type);
  check_name_option("--queue", o.queue);
  check_name_option("--correlation-id", o.correlation_id);
  check_name_option("--concurrency-key", o.concurrency_key);
  try {
    job.payload = payload_from_text(o.payload, limits);
  } catch (const std::invalid_argument& e) {
    if (std::string{e.what()} == "payload is not valid JSON")
      throw usage_error("--payload is not valid JSON");
    throw usage_error(std::string{"--payload: "} + e.what());
  }
  if (o.max_attempts && *o.max_attempts < 1)
    throw usage_error("--max-attempts must be at least 1");
  job.queue = o.queue;
  job.priority = o.priority;
  job.max_attempts = o.max_attempts;
  job.run_at = o.run_at;
  job.correlation_id = o.correlation_id;
  job.concurrency_key = o.concurrency_key;
  try {
    set_unique(job, o.unique_key, o.unique_while, o.unique_for,
               {"--unique-key", "--unique-while", "--unique-for"});
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
  store db{url};
  auto result = db.enqueue_one(job);
  // The id first, as always; a duplicate says so after it.
  std::cout << result.id;
  if (result.duplicate)
    std::cout << " duplicate: job " << result.id << " holds unique key " << *job.unique_key;
  std::cout << "\n";
  return 0;
}

} // namespace

void add_enqueue_command(CLI::App& app, const std::string& url, enqueue_options& o,
                         std::function<int()>& run) {
  auto* e = app.add_subcommand("enqueue", "Enqueue a job (or many with --file)");
  e->add_option("type", o.type, "Job type");
  e->add_option("--payload", o.payload, "JSON payload")->capture_default_str();
  e->add_option("--queue", o.queue, "Queue (default: default)");
  e->add_option("--priority", o.priority, "Lower runs first (default 0)");
  e->add_option("--run-at", o.run_at, "Not before this time (timestamptz)");
  e->add_option("--max-attempts", o.max_attempts, "Attempts before it is dead (25)");
  e->add_option("--correlation-id", o.correlation_id, "Chain id (default: job-<id>, its own)");
  e->add_option("--unique-key", o.unique_key,
                "At most one job with this key (a duplicate prints the holder's id)");
  e->add_option("--unique-while", o.unique_while,
                "How long the key is held: queued, active (default) or any");
  e->add_option("--unique-for", o.unique_for,
                "Hold the key per window of this length (1h: one job an hour)");
  e->add_option("--concurrency-key", o.concurrency_key,
                "Run at most the queue's per-key limit (1 unless set) of this key's jobs at once");
  e->add_option("--file", o.file,
                "NDJSON file, one job per line: {\"type\":..., \"payload\":...}");
  e->add_option("--max-payload-bytes", o.max_payload_bytes,
                "Largest payload (compact JSON)")->capture_default_str();
  e->callback([&] { run = [&] { return run_enqueue(url, o); }; });
}

} // namespace leasehold::cli
