// schedule add, list, remove, pause and resume.
#include "runtime/cli_schedule.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "runtime/bulk_file.hpp"
#include "runtime/cli_enqueue.hpp"

namespace leasehold::cli {

namespace {

int schedule_add(const std::string& url, schedule_options& o) {
  nlohmann::json obj{{"name", o.spec.name}, {"cron", o.spec.cron}, {"type", o.spec.type},
                     {"tz", o.spec.tz}, {"queue", o.spec.queue},
                     {"priority", o.spec.priority}, {"max_attempts", o.spec.max_attempts},
                     {"catch_up", o.spec.catch_up}};
  if (o.payload) {
    auto payload = nlohmann::json::parse(*o.payload, nullptr, false);
    if (payload.is_discarded())
      throw usage_error("--payload is not valid JSON");
    obj["payload"] = payload;
  }
  schedule_spec spec;
  try {
    spec = parse_schedule_object(obj.dump());
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
  store{url}.add_schedule(spec);
  std::cout << "schedule " << spec.name << " added\n";
  return 0;
}

int schedule_list(const std::string& url, const schedule_options& o) {
  auto list = nlohmann::json::parse(store{url}.schedules_json(defaults::schedule_late));
  if (o.json) {
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  if (list.empty())
    std::cout << "no schedules\n";
  for (const auto& s : list)
    std::cout << s["name"].get<std::string>() << "  " << s["cron"].get<std::string>() << " ("
              << s["tz"].get<std::string>() << ")  " << s["type"].get<std::string>() << "  "
              << (s["paused"].get<bool>() ? "PAUSED" : "next " + s["next_tick_at"].get<std::string>())
              << (s["late"].get<bool>() ? "  LATE" : "") << "  enqueued "
              << s["ticks_enqueued"] << ", skipped " << s["ticks_skipped"] << "\n";
  return 0;
}

int schedule_change(const std::string& url, const std::string& name, const std::string& what) {
  store db{url};
  bool found = what == "remove" ? db.remove_schedule(name)
                                : db.set_schedule_paused(name, what == "pause");
  if (!found)
    throw usage_error("no schedule named " + name);
  std::cout << "schedule " << name << (what == "remove" ? " removed" : what == "pause" ? " paused" : " resumed") << "\n";
  return 0;
}

} // namespace

void add_schedule_commands(CLI::App& app, const std::string& url, schedule_options& o,
                           std::function<int()>& run) {
  auto* s = app.add_subcommand("schedule", "Periodic jobs: add, list, remove, pause, resume");
  s->require_subcommand(1);
  auto* add = s->add_subcommand("add", "Add a schedule (its first tick is the next after now)");
  add->add_option("name", o.spec.name, "Schedule name")->required();
  add->add_option("--cron", o.spec.cron,
                  "Five cron fields, @hourly-style shortcut, or '@every 1s'")->required();
  add->add_option("--type", o.spec.type, "Job type of each tick")->required();
  add->add_option("--payload", o.payload, "JSON payload of each tick's job");
  add->add_option("--queue", o.spec.queue, "Queue")->capture_default_str();
  add->add_option("--priority", o.spec.priority, "Lower runs first")->capture_default_str();
  add->add_option("--max-attempts", o.spec.max_attempts, "Attempts per tick's job")
    ->capture_default_str();
  add->add_option("--tz", o.spec.tz, "Time zone of the cron fields (e.g. Europe/Berlin)")
    ->capture_default_str();
  add->add_option("--catch-up", o.spec.catch_up,
                  "Ticks missed while no node ran: none, one (the latest) or all")
    ->capture_default_str();
  add->callback([&] { run = [&] { return schedule_add(url, o); }; });
  auto* list = s->add_subcommand("list", "Every schedule, its next tick and counts");
  list->add_flag("--json", o.json, "As JSON");
  list->callback([&] { run = [&] { return schedule_list(url, o); }; });
  for (const char* what : {"remove", "pause", "resume"}) {
    auto* c = s->add_subcommand(what, std::string{what} + " a schedule");
    c->add_option("name", o.spec.name, "Schedule name")->required();
    c->callback([&, what] { run = [&, what] { return schedule_change(url, o.spec.name, what); }; });
  }
}

} // namespace leasehold::cli
