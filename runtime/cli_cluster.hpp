#pragma once

#include <functional>
#include <string>

#include "runtime/cluster_config.hpp"

namespace CLI {
class App;
}

/// The `cluster` command: every node's live state, gathered over CAF by
/// one node of the cluster (found in the database, or given with --node).
namespace leasehold::cli {

struct cluster_options {
  /// A node's cluster address (IP:PORT); empty: the live nodes' endpoints
  /// from the database, tried in turn.
  std::string node;
  bool json = false;
  std::string timeout = "3s";
  cluster_settings settings; // certificates; the listen address is unused
  std::string heartbeat = "200ms";
};

/// Adds `cluster`; `run` is set to it.
void add_cluster_command(CLI::App& app, const std::string& url, cluster_options& o,
                         std::function<int()>& run);

/// Adds --cluster-cert, --cluster-key, --cluster-ca and --cluster-heartbeat
/// (shared by `node` and `cluster`).
void add_cluster_tls_options(CLI::App& cmd, cluster_settings& s, std::string& heartbeat);

} // namespace leasehold::cli
