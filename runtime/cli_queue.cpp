// queue pause, resume and list.
#include "runtime/cli_queue.hpp"

#include <iomanip>
#include <iostream>
#include <optional>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/cli_enqueue.hpp"
#include "runtime/input_limits.hpp"

namespace leasehold::cli {

namespace {

void check_queue_name(const std::string& name) {
  try {
    check_name("queue", name);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

int queue_change(const std::string& url, const std::string& name, bool pause) {
  check_queue_name(name);
  // Returns once no claim of the queue can commit any more.
  auto state = nlohmann::json::parse(store{url}.set_queue_paused(name, pause));
  if (pause)
    std::cout << "queue " << name << " paused (since "
              << state["paused_at"].get<std::string>()
              << "): nodes claim nothing from it; running jobs finish\n";
  else
    std::cout << "queue " << name << " resumed\n";
  return 0;
}

int queue_limit(const std::string& url, const queue_options& o) {
  check_queue_name(o.name);
  if (o.concurrency < 0 || o.concurrency > 1000000)
    throw usage_error("--concurrency must be from 1 to 1000000, or 0 to remove the limit");
  std::optional<int32_t> limit;
  if (o.concurrency > 0)
    limit = static_cast<int32_t>(o.concurrency);
  store{url}.set_queue_concurrency(o.name, limit);
  if (limit)
    std::cout << "queue " << o.name << ": at most " << *limit
              << " jobs held at once across all nodes\n";
  else
    std::cout << "queue " << o.name << ": no concurrency limit\n";
  return 0;
}

int queue_list(const std::string& url, bool json) {
  auto list = nlohmann::json::parse(store{url}.queues_json());
  if (json) {
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  if (list.empty()) {
    std::cout << "no queues with jobs\n";
    return 0;
  }
  std::cout << std::left << std::setw(24) << "QUEUE" << std::setw(9) << "STATE"
            << std::setw(10) << "DUE" << std::setw(11) << "SCHEDULED" << std::setw(9)
            << "RUNNING" << std::setw(8) << "LIMIT" << "LAG (s)\n";
  for (const auto& q : list)
    std::cout << std::setw(24) << q["queue"].get<std::string>() << std::setw(9)
              << (q["paused"].get<bool>() ? "PAUSED" : "running") << std::setw(10)
              << q["due"].dump() << std::setw(11) << q["scheduled"].dump() << std::setw(9)
              << q["running"].dump() << std::setw(8)
              << (q["concurrency"].is_null() ? "-" : q["concurrency"].dump())
              << q["lag_seconds"].dump() << "\n";
  return 0;
}

} // namespace

void add_queue_commands(CLI::App& app, const std::string& url, queue_options& o,
                        std::function<int()>& run) {
  auto* q = app.add_subcommand("queue", "Queues: pause, resume, limit, list");
  q->require_subcommand(1);
  for (const char* what : {"pause", "resume"}) {
    auto* c = q->add_subcommand(
      what, std::string{what} + " a queue on every node (stored: survives restarts)");
    c->add_option("name", o.name, "Queue name")->required();
    bool pause = std::string{what} == "pause";
    c->callback([&, pause] { run = [&, pause] { return queue_change(url, o.name, pause); }; });
  }
  auto* limit = q->add_subcommand(
    "limit", "Limit how many jobs of a queue all nodes together hold at once");
  limit->add_option("name", o.name, "Queue name")->required();
  limit->add_option("--concurrency", o.concurrency, "At most this many (0: no limit)")
    ->required();
  limit->callback([&] { run = [&] { return queue_limit(url, o); }; });
  auto* list = q->add_subcommand("list",
                                 "Each queue: paused or not, due, scheduled, running, limit, lag");
  list->add_flag("--json", o.json, "As JSON");
  list->callback([&] { run = [&] { return queue_list(url, o.json); }; });
}

} // namespace leasehold::cli
