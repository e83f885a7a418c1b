#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "messages/cluster_types.hpp"
#include "runtime/cluster_config.hpp"

/// Asks one node's cluster face from outside the cluster: `leasehold
/// cluster` and tests. It runs an actor system of its own with the same
/// protocol, heartbeat and certificates as the nodes (its listen address
/// is not used: it publishes nothing).
namespace leasehold {

class cluster_client {
public:
  explicit cluster_client(const cluster_settings& settings);
  ~cluster_client();
  cluster_client(const cluster_client&) = delete;
  cluster_client& operator=(const cluster_client&) = delete;

  /// The node's own view. Throws std::runtime_error with a one-line
  /// reason ("refused: ...", "no answer within ...").
  cluster_view_v1 view(const cluster_endpoint& at, std::chrono::milliseconds timeout);
  /// The whole cluster as that node gathers it (JSON text).
  std::string cluster(const cluster_endpoint& at, std::chrono::milliseconds timeout);
  /// Asks the node to look at Postgres now ("leases", "queues").
  bool nudge(const cluster_endpoint& at, const std::string& topic,
             std::chrono::milliseconds timeout);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace leasehold
