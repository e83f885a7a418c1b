#pragma once

#include <functional>
#include <string>

#include "messages/retention.hpp"
#include "runtime/defaults.hpp"

namespace CLI {
class App;
}

/// The `prune` command, and the retention options it shares with `node`.
namespace leasehold::cli {

/// Retention options as given (7d, 30d, 12h, ...; 0, off or forever: keep).
struct retention_options {
  std::string succeeded, dead, runs, instances, violations;
  retention_options(); // the defaults of defaults::retention
};

/// Adds --retain-succeeded, --retain-dead, --retain-runs, --retain-instances
/// and --retain-violations to `cmd`.
void add_retention_options(CLI::App& cmd, retention_options& o);

/// The policy the options give, keeping `base`'s batch and budget; a
/// usage_error naming the option for a bad value.
retention_policy parse_retention(const retention_options& o, retention_policy base);

/// A retention (7d, 36h, ...; "forever" for 0) as the options read it.
std::string format_retention(int64_t ms);

struct prune_options {
  retention_options retention;
  bool dry_run = false;
  bool json = false;
  int32_t batch = defaults::prune_batch;
  std::string pause = "0ms"; // rest after each batch
  std::string share = "100%"; // of the time in batches
};

/// A share in percent, "10%" or "10", from 1 to 100; a usage_error naming
/// --`name` otherwise.
int32_t share_option(const std::string& name, const std::string& text);

/// Adds `prune`; `run` is set to it.
void add_prune_command(CLI::App& app, const std::string& url, prune_options& o,
                       std::function<int()>& run);

} // namespace leasehold::cli
