#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

/// The `queue` commands: pause, resume, list.
namespace leasehold::cli {

struct queue_options {
  std::string name;
  bool json = false;
};

/// Adds `queue pause|resume|list`; `run` is set to the chosen one.
void add_queue_commands(CLI::App& app, const std::string& url, queue_options& o,
                        std::function<int()>& run);

} // namespace leasehold::cli
