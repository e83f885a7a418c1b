#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "runtime/defaults.hpp"
#include "runtime/input_limits.hpp"

namespace CLI {
class App;
}

/// The `enqueue` command and the checks of job input given as options,
/// which `run create` shares.
namespace leasehold::cli {

/// A user-facing error: printed as one line, exit code 1.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct enqueue_options {
  std::string type;
  std::string payload = "{}";
  std::optional<std::string> queue, run_at, correlation_id;
  std::optional<std::string> unique_key, unique_while, unique_for;
  std::optional<std::string> concurrency_key;
  std::optional<int32_t> priority, max_attempts;
  std::string file;
  int64_t max_payload_bytes = static_cast<int64_t>(defaults::max_payload_bytes);
};

/// A duration option (250ms, 10s, 2m, 1h); a usage_error naming it if not.
std::chrono::milliseconds duration_option(const std::string& name, const std::string& text);

/// The limits of --max-payload-bytes; a usage_error when out of range.
input_limits limits_option(int64_t max_payload_bytes);

/// A name-like option (type, queue, ...) the table would refuse is a
/// usage_error naming it.
void check_name_option(const std::string& option, const std::optional<std::string>& value);

/// Opens an input file named by `flag` (--file, --partitions); a
/// usage_error when it is a directory or cannot be opened.
std::ifstream open_input(const std::string& flag, const std::string& path);

/// Adds `enqueue TYPE [--payload ...]` and `enqueue --file FILE`; `run` is
/// set to the command when it is chosen.
void add_enqueue_command(CLI::App& app, const std::string& url, enqueue_options& o,
                         std::function<int()>& run);

} // namespace leasehold::cli
