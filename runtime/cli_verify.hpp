#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "runtime/defaults.hpp"
#include "runtime/duration.hpp"

namespace CLI {
class App;
}

/// `leasehold verify`: checks the database against leasehold's invariants
/// (persistence/verify.hpp). Exit 0 when all hold, 3 when any is violated,
/// 1 when it could not check.
namespace leasehold::cli {

struct verify_cli_options {
  bool json = false;
  std::string since = "-infinity";
  std::string grace = "30s";
  std::string trace_cutoff = "-infinity";
  std::string lease_ttl = format_duration(defaults::lease_ttl);
  int64_t limit = 20;
};

/// Exit status of verify when an invariant is violated.
constexpr int verify_violated = 3;

/// Adds `verify`; `run` is set to it when chosen.
void add_verify_command(CLI::App& app, const std::string& url, verify_cli_options& o,
                        std::function<int()>& run);

} // namespace leasehold::cli
