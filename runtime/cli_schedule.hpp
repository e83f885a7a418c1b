#pragma once

#include <functional>
#include <optional>
#include <string>

#include "persistence/store.hpp"

namespace CLI {
class App;
}

/// The `schedule` commands: add, list, remove, pause, resume.
namespace leasehold::cli {

struct schedule_options {
  schedule_spec spec;
  std::optional<std::string> payload;
  bool json = false;
};

/// Adds `schedule add|list|remove|pause|resume`; `run` is set to the chosen one.
void add_schedule_commands(CLI::App& app, const std::string& url, schedule_options& o,
                           std::function<int()>& run);

} // namespace leasehold::cli
