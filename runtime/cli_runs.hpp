#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "persistence/store.hpp"
#include "runtime/defaults.hpp"

namespace CLI {
class App;
}

/// The `run` commands: create a run from an NDJSON file, retry its failed
/// partitions, show it.
namespace leasehold::cli {

struct run_options {
  run_spec spec;
  std::string partitions_file;
  int64_t id = 0;
  std::string partition;
  bool failed = false;
  bool json = false;
  int64_t max_payload_bytes = static_cast<int64_t>(defaults::max_payload_bytes);
};

/// Adds `run create|retry|show`; `run` is set to the chosen one.
void add_run_commands(CLI::App& app, const std::string& url, run_options& o,
                      std::function<int()>& run);

} // namespace leasehold::cli
