#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace CLI {
class App;
}

/// The `queue` commands: pause, resume, limit, list.
namespace leasehold::cli {

struct queue_options {
  std::string name;
  bool json = false;
  int64_t concurrency = -1; // queue limit: 0 removes the limit
};

/// Adds `queue pause|resume|limit|list`; `run` is set to the chosen one.
void add_queue_commands(CLI::App& app, const std::string& url, queue_options& o,
                        std::function<int()>& run);

} // namespace leasehold::cli
