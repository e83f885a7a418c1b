#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/cli_prune.hpp"
#include "runtime/defaults.hpp"
#include "runtime/duration.hpp"
#include "runtime/node.hpp"

namespace CLI {
class App;
}

/// The `node` command: its options, the handlers it registers (built-in and
/// --exec programs) and the running node until a signal stops it.
namespace leasehold::cli {

/// What `node` is given on its command line.
struct node_options {
  node_config cfg;
  std::vector<std::string> queues;
  std::vector<std::string> execs;
  std::string heartbeat = format_duration(defaults::heartbeat_interval);
  std::string ttl = format_duration(defaults::lease_ttl);
  std::string poll = format_duration(defaults::poll_interval);
  std::string stop = format_duration(defaults::stop_timeout);
  std::string reap = format_duration(defaults::reap_interval);
  std::string prefetch_horizon = format_duration(defaults::prefetch_horizon);
  std::string prefetch_max_hold = format_duration(defaults::prefetch_max_hold);
  std::string completion_linger = format_duration(defaults::completion_linger);
  std::string schedule_interval = format_duration(defaults::schedule_interval);
  retention_options retention;
  std::string prune_interval = format_duration(defaults::prune_interval);
  std::string prune_pause = format_duration(defaults::prune_pause);
  std::string prune_share = std::to_string(defaults::prune_share_percent) + "%";
  std::string stale = format_duration(defaults::stale_after);
  std::string alert_lag = format_duration(defaults::alert_lag);
  std::string retry_base = format_duration(defaults::retry_base);
  std::string retry_cap = format_duration(defaults::retry_cap);
  std::string exec_timeout = format_duration(defaults::exec_timeout);
  std::string attempt_timeout = format_duration(defaults::attempt_timeout);
  std::string trace_policy = "log";
  std::string log_level = "info";
  bool no_migrate = false;
  std::string http_token_file, http_read_token_file;
  std::string cluster_heartbeat = "200ms";
  std::vector<std::string> exec_env_pass;
};

/// Adds `node`; `run` is set to it. `o` must outlive the parse and the run.
void add_node_command(CLI::App& app, const std::string& url, node_options& o,
                      std::function<int()>& run);

} // namespace leasehold::cli
