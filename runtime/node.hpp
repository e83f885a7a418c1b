#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "messages/job_types.hpp"
#include "persistence/store.hpp"
#include "runtime/cluster_config.hpp"
#include "runtime/defaults.hpp"
#include "runtime/handler_registry.hpp"

/// A leasehold node: an actor system running a supervisor over the
/// persistence, lease, heartbeat and executor actors. Used by `leasehold
/// node` and, in-process, by tests.
namespace leasehold {

struct persistence_config;

/// The retention of defaults::retention, with a node pass's batch and budget.
retention_policy default_retention();

/// Settings of one node. Durations in milliseconds.
struct node_config {
  std::string database_url;
  std::string worker_base = defaults::worker_base;
  /// This node's type; singleton types allow one active instance.
  std::string worker_type = defaults::worker_type;
  bool singleton = false;
  /// Instances silent for this long are presumed dead (STOPPED).
  std::chrono::milliseconds stale_after = defaults::stale_after;
  /// Queues and their concurrency; empty means {"default": concurrency}.
  std::map<std::string, int32_t> queues;
  int32_t concurrency = defaults::concurrency;
  /// Jobs claimed ahead of the handlers per queue (0: none), about
  /// prefetch_horizon of work at the start rate (0: always `prefetch`).
  int32_t prefetch = defaults::prefetch;
  std::chrono::milliseconds prefetch_horizon = defaults::prefetch_horizon;
  std::chrono::milliseconds prefetch_max_hold = defaults::prefetch_max_hold;
  /// Time between scheduler passes over the due schedules (0: this node
  /// enqueues no schedule ticks).
  std::chrono::milliseconds schedule_interval = defaults::schedule_interval;
  /// What this node's pruner keeps and for how long (0: forever), and how
  /// often it runs a pass (0: no pruner on this node). See migration 025.
  retention_policy retention = default_retention();
  std::chrono::milliseconds prune_interval = defaults::prune_interval;
  /// How long a completion waits for others to share its write (0: none).
  std::chrono::milliseconds completion_linger = defaults::completion_linger;
  std::chrono::milliseconds heartbeat_interval = defaults::heartbeat_interval;
  std::chrono::milliseconds lease_ttl = defaults::lease_ttl;
  std::chrono::milliseconds poll_interval = defaults::poll_interval;
  std::chrono::milliseconds stop_timeout = defaults::stop_timeout;
  std::chrono::milliseconds reap_interval = defaults::reap_interval;
  std::chrono::milliseconds retry_base = defaults::retry_base;
  std::chrono::milliseconds retry_cap = defaults::retry_cap;
  /// An attempt of a type registered without its own timeout ends with a
  /// `timeout` failure after this long, whether its handler returns or not.
  std::chrono::milliseconds attempt_timeout = defaults::attempt_timeout;
  /// How long a claim waits for its reply (30s); the jobs of a claim
  /// answered later are given back by the node's own renewals.
  std::chrono::milliseconds claim_timeout{30000};
  /// Jobs created at or after this time must succeed with a trace_id.
  std::string trace_cutoff = "infinity";
  bool trace_strict = false;
  bool migrate = true;
  /// Where the HTTP bridge listens ("127.0.0.1:8080"; port 0 picks a free
  /// one; "off" disables it).
  std::string http_listen = defaults::http_listen;
  /// The node's cluster links (runtime/cluster_config.hpp): on loopback
  /// by default.
  cluster_settings cluster;
  /// File to append each handler's start and end to (see
  /// runtime/execution_ledger.hpp); empty: none.
  std::string execution_ledger;
  /// Bearer token for the HTTP write endpoints; empty disables them.
  std::string http_token;
  /// Bearer token for the HTTP reads; empty leaves them open.
  std::string http_read_token;
  /// Alert thresholds of /health.
  std::chrono::milliseconds alert_lag = defaults::alert_lag;
  int64_t alert_dead = defaults::alert_dead;
  /// Largest payload accepted over HTTP and from handlers' children, as
  /// compact JSON text; the HTTP body limit is this plus 64 KiB.
  int64_t max_payload_bytes = static_cast<int64_t>(defaults::max_payload_bytes);
  /// Largest output an attempt keeps, as compact JSON text (64 KiB).
  int64_t max_output_bytes = static_cast<int64_t>(defaults::max_output_bytes);
  /// Scheduler threads of the actor system (2: one per core here).
  size_t scheduler_threads = 2;

  /// Throws std::invalid_argument naming the key, value and rule.
  void validate() const;
  /// The queue map to run with (fills in the default queue).
  std::map<std::string, int32_t> effective_queues() const;
};

class node {
public:
  node(node_config cfg, std::shared_ptr<const handler_registry> handlers);
  ~node(); // hard stop if still running
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Migrates (unless disabled) and starts the actors.
  void start();

  /// Graceful stop: no more claims, in-flight attempts get stop_timeout.
  void stop();

  /// Immediate stop: every executor ends now.
  void kill();

  /// Asks for a graceful stop without waiting (a first signal).
  void interrupt_gracefully();

  /// Asks for an immediate stop without waiting; safe from another thread
  /// while stop() waits (a second signal).
  void interrupt();

  /// Blocks until the node's supervisor has ended; returns its exit reason
  /// ("" for a normal stop, e.g. "instance_lost").
  std::string wait();

  /// Ends one core actor (0 persistence, 1 lease, 2 heartbeat, 3 reaper)
  /// with a runtime_error, as a crash would: for supervision tests.
  void crash_core_actor(size_t index);

  /// Live counters from the supervisor.
  node_stats stats();

  const std::string& worker_id() const { return worker_id_; }

  /// The HTTP bridge's port, or -1 when it is off or could not bind.
  int http_port() const;

  /// Where peers reach this node's cluster face ("" when links are off).
  std::string cluster_endpoint() const;

private:
  instance_info instance() const;
  void start_observer(const persistence_config& store_cfg);
  void start_pruner(const persistence_config& store_cfg);
  void start_cluster();

  struct impl;
  node_config cfg_;
  std::string worker_id_;
  std::shared_ptr<const handler_registry> handlers_;
  std::unique_ptr<impl> impl_;
};

} // namespace leasehold
