#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "persistence/store.hpp"
#include "tests/support/node_args.hpp"
#include "tests/support/process.hpp"

/// Real `leasehold node` processes for fault tests (cluster.faults,
/// cluster.partition), with short timeouts.
namespace leasehold::test {

/// `leasehold node` with a lease TTL of 1.5s, a stale threshold of 2.5s,
/// 300ms heartbeats and reaps, an HTTP port of its own, then `extra`
/// (whose flags replace these defaults).
std::vector<std::string> fault_node_args(const std::vector<std::string>& extra);

/// Starts a node as above on `database_url` (default: the test database);
/// its stderr goes to /tmp/leasehold-node-<pid>-<n>.log.
std::unique_ptr<background_process> start_node(const std::vector<std::string>& extra,
                                               const std::string& database_url = "");

/// A value read on a fresh connection each time ("" when Postgres does not
/// answer): the server may have been restarted under the fixture's.
std::string fresh_value(const std::string& sql);
/// As above, a count; -1 when Postgres does not answer.
int64_t fresh_count(const std::string& sql);

/// Enqueues `n` jobs of `type` with payload {"ms": ms}, in one statement.
void enqueue_sleeps(store& db, int n, int ms, const std::string& type = "sleep");

/// The address a node's HTTP bridge listens on, from its log ("" if none).
std::string http_address(const background_process& node);

/// The address a node's cluster face listens on, from its log ("" if none).
std::string cluster_address(const background_process& node);

/// The node's live worker id, from worker_instances by its pid ("" if none).
std::string worker_of(const background_process& node);

/// GET /cluster on the node's HTTP bridge: the parsed body, or null when it
/// did not answer 200 within 5 s; `took_ms` gets the request's time.
nlohmann::json cluster_of(const background_process& node, long* took_ms = nullptr);

/// The node's /health JSON text, through `leasehold health --url`.
std::string node_health(const background_process& node);

/// Lines of a node's log whose message is `msg`.
int log_lines(const background_process& node, const std::string& msg);

/// A node in a network namespace of its own, which reaches Postgres only
/// through a leasehold-fault-proxy relay in that namespace (TCP on its
/// loopback, then Postgres's unix socket). cut() drops every packet on that
/// loopback: unlike the proxy's blackhole, whose kernel acknowledges what it
/// holds, nothing is acknowledged, as in a real partition. Uses unshare and
/// nsenter (util-linux) and tc (iproute2); as root, or in a user namespace.
class isolated_node {
public:
  isolated_node(const std::vector<std::string>& extra, const std::string& socket_dir,
                uint16_t pg_port);
  void cut();
  void heal();
  background_process& node() { return *node_; }

private:
  void tc(const std::vector<std::string>& args);
  std::vector<std::string> enter_;
  std::unique_ptr<background_process> relay_;
  std::unique_ptr<background_process> node_;
};

} // namespace leasehold::test
