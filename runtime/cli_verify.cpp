// leasehold verify: the invariants, checked on the data itself.
#include "runtime/cli_verify.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "persistence/verify.hpp"
#include "runtime/cli_enqueue.hpp"

namespace leasehold::cli {

namespace {

int run_verify(const std::string& url, const verify_cli_options& o) {
  if (o.limit < 1 || o.limit > 10000)
    throw usage_error("--limit must be between 1 and 10000");
  verify_options opts;
  opts.grace_ms = duration_option("grace", o.grace).count();
  opts.default_lease_ttl_ms = duration_option("lease-ttl", o.lease_ttl).count();
  opts.limit = o.limit;
  opts.since = o.since;
  opts.trace_cutoff = o.trace_cutoff;
  store db{url};
  db.check_timestamp("since", o.since);
  db.check_timestamp("trace-cutoff", o.trace_cutoff);
  auto started = std::chrono::steady_clock::now();
  auto results = db.verify(opts);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - started).count();
  int64_t violated = 0;
  for (const auto& r : results)
    violated += r.violations > 0 ? 1 : 0;
  if (o.json) {
    auto checks = nlohmann::json::array();
    for (const auto& r : results) {
      auto rows = nlohmann::json::array();
      for (const auto& row : r.rows)
        rows.push_back(nlohmann::json::parse(row));
      checks.push_back({{"name", r.name}, {"description", r.description},
                        {"violations", r.violations}, {"rows", rows}});
    }
    std::cout << nlohmann::json{{"ok", violated == 0}, {"since", o.since},
                                {"elapsed_ms", ms}, {"checks", checks}}.dump(2)
              << "\n";
  } else {
    for (const auto& r : results) {
      std::printf("%-9s %-30s %s\n", r.violations == 0 ? "ok" : "VIOLATED",
                  r.name.c_str(), r.description.c_str());
      if (r.violations > static_cast<int64_t>(r.rows.size()))
        std::printf("          %lld violations, the first %zu:\n",
                    static_cast<long long>(r.violations), r.rows.size());
      for (const auto& row : r.rows)
        std::printf("          %s\n", row.c_str());
    }
    std::printf("%s: %lld of %zu invariants violated (since %s, %lld ms)\n",
                violated == 0 ? "verified" : "VIOLATIONS",
                static_cast<long long>(violated), results.size(), o.since.c_str(),
                static_cast<long long>(ms));
  }
  return violated == 0 ? 0 : verify_violated;
}

} // namespace

void add_verify_command(CLI::App& app, const std::string& url, verify_cli_options& o,
                        std::function<int()>& run) {
  auto* v = app.add_subcommand(
    "verify", "Check the database against leasehold's invariants (exit 3 if violated)");
  v->add_flag("--json", o.json, "Print JSON");
  v->add_option("--since", o.since,
                "Only attempts, successes and runs since this time (live leases always)")
    ->capture_default_str();
  v->add_option("--grace", o.grace,
                "Slack past an owner's lease TTL or a revocation before a lease counts"
                " as stuck")->capture_default_str();
  v->add_option("--trace-cutoff", o.trace_cutoff,
                "Successes of jobs created since then must have a trace_id")
    ->capture_default_str();
  v->add_option("--lease-ttl", o.lease_ttl,
                "Lease TTL of owners that recorded none")->capture_default_str();
  v->add_option("--limit", o.limit, "Rows shown per violated invariant")
    ->capture_default_str();
  v->callback([&] { run = [&] { return run_verify(url, o); }; });
}

} // namespace leasehold::cli
