// queue pause, resume and list.
#include "runtime/cli_queue.hpp"

#include <iomanip>
#include <iostream>
#include <optional>
#include <vector>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "runtime/cli_enqueue.hpp"
#include "runtime/queue_limits.hpp"
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
  // The options as the HTTP body would say them, checked by the same code.
  nlohmann::json asked = nlohmann::json::object();
  for (auto [key, value] : {std::pair{"concurrency", o.concurrency}, {"per_key", o.per_key},
                            {"burst", o.burst}})
    if (value)
      asked[key] = *value == 0 && std::string{key} != "burst" ? nlohmann::json(nullptr)
                                                              : nlohmann::json(*value);
  if (o.rate)
    asked["rate"] = *o.rate == "0" || *o.rate == "none" ? nlohmann::json(nullptr)
                                                        : nlohmann::json(*o.rate);
  std::string limits;
  try {
    limits = checked_queue_limits(asked);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
  auto state = nlohmann::json::parse(store{url}.set_queue_limits(o.name, limits));
  std::cout << "queue " << o.name << ": " << queue_limits_text(state) << "\n";
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
            << "RUNNING" << std::setw(8) << "LIMIT" << std::setw(9) << "LAG (s)" << "OTHER LIMITS\n";
  for (const auto& q : list)
    std::cout << std::setw(24) << q["queue"].get<std::string>() << std::setw(9)
              << (q["paused"].get<bool>() ? "PAUSED" : "running") << std::setw(10)
              << q["due"].dump() << std::setw(11) << q["scheduled"].dump() << std::setw(9)
              << q["running"].dump() << std::setw(8)
              << (q["concurrency"].is_null() ? "-" : q["concurrency"].dump())
              << std::setw(9) << q["lag_seconds"].dump() << queue_limits_text(q, false) << "\n";
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
  limit->add_option("--concurrency", o.concurrency,
                    "At most this many held at once (0: no limit)");
  limit->add_option("--per-key", o.per_key,
                    "At most this many of one --concurrency-key at once (1 unless set; 0: back to 1)");
  limit->add_option("--rate", o.rate,
                    "At most JOBS started per PERIOD across all nodes: 10/s, 600/min, 5/500ms (none: no rate)");
  limit->add_option("--burst", o.burst,
                    "With --rate: at most this many at once after a quiet spell (a tenth of a second's jobs)");
  limit->callback([&] { run = [&] { return queue_limit(url, o); }; });
  auto* list = q->add_subcommand("list",
                                 "Each queue: paused or not, due, scheduled, running, limit, lag");
  list->add_flag("--json", o.json, "As JSON");
  list->callback([&] { run = [&] { return queue_list(url, o.json); }; });
}

} // namespace leasehold::cli
