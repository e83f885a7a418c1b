#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

/// The `queue` commands: pause, resume, limit, list.
namespace leasehold::cli {

struct queue_options {
  std::string name;
  bool json = false;
  // queue limit: each one given is changed; 0 (none for a rate) removes it.
  std::optional<int64_t> concurrency, per_key, burst;
  std::optional<std::string> rate;
};

/// Adds `queue pause|resume|limit|list`; `run` is set to the chosen one.
void add_queue_commands(CLI::App& app, const std::string& url, queue_options& o,
                        std::function<int()>& run);

} // namespace leasehold::cli
