#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "persistence/store.hpp"
#include "runtime/defaults.hpp"
#include "runtime/duration.hpp"

namespace CLI {
class App;
}

/// The commands that say what is broken and where: health, dead-jobs, chain
/// (from the database, or from a node's HTTP bridge with --url).
namespace leasehold::cli {

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

/// Adds `health`, `dead-jobs` and `chain`; `run` is set to the chosen one.
void add_observe_commands(CLI::App& app, const std::string& url, observe_options& o,
                          std::function<int()>& run);

} // namespace leasehold::cli
