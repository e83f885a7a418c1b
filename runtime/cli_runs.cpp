// run create, retry and show.
#include "runtime/cli_runs.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "runtime/bulk_file.hpp"
#include "runtime/cli_enqueue.hpp"

namespace leasehold::cli {

namespace {

int run_create(const std::string& url, run_options& o) {
  check_name_option("--type", o.spec.type);
  check_name_option("--on-complete", o.spec.on_complete_type);
  check_name_option("--label", o.spec.label);
  auto limits = limits_option(o.max_payload_bytes);
  auto in = open_input("--partitions", o.partitions_file);
  try {
    o.spec.partitions = read_partitions(in, limits);
  } catch (const std::invalid_argument& e) {
    throw usage_error(o.partitions_file + ":" + e.what());
  } catch (const std::runtime_error& e) {
    throw usage_error("--partitions " + o.partitions_file + ": " + e.what());
  }
  if (o.spec.max_attempts && *o.spec.max_attempts < 1)
    throw usage_error("--max-attempts must be at least 1");
  std::cout << store{url}.create_run(o.spec) << "\n";
  return 0;
}

int run_retry(const std::string& url, const run_options& o) {
  if (o.partition.empty() == !o.failed)
    throw usage_error("run retry: give exactly one of --partition KEY or --failed");
  if (!o.failed)
    check_name_option("--partition", o.partition);
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

} // namespace

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

} // namespace leasehold::cli
