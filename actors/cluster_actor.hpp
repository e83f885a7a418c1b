#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "messages/protocols.hpp"

namespace leasehold {

/// Settings of the cluster actor.
struct cluster_actor_config {
  /// This node's worker id at start.
  std::string worker_id;
  /// Links go through CAF's OpenSSL module (true) or plain middleman.
  bool tls = false;
  /// This node speaks version 2 too (--cluster-test-v2): it says hello in
  /// v2 to peers whose interface has it, and v1 to the others.
  bool v2 = false;
  /// How often the live peers are read from worker_instances (the node's
  /// heartbeat interval): a new node is linked within about one.
  std::chrono::milliseconds membership_interval{10000};
  /// A peer must accept a TCP connection within this before the middleman
  /// is asked to connect (its connect blocks, plan F4).
  std::chrono::milliseconds probe_timeout{300};
  std::chrono::milliseconds connect_timeout{5000};
  /// How long a gathered view waits for each peer.
  std::chrono::milliseconds view_timeout{500};
  /// Retry delays after a failed link: doubling from min to max, +-20%.
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
};

/// One peer as this node's cluster actor sees it.
struct cluster_peer {
  std::string worker_id;
  std::string endpoint;
  /// "connecting", "up" or "down" (with a reason; a retry is scheduled).
  std::string state = "connecting";
  std::string reason;
  std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  cluster_face_v1 face; // when up
  int failures = 0;     // in a row, for the backoff
  /// Bumped at every attempt: answers to an older attempt are ignored.
  uint64_t generation = 0;
};

/// A cluster view being gathered: views and failures come in one by one.
struct cluster_gather {
  caf::typed_response_promise<std::string> promise;
  std::vector<cluster_view_v1> views;
  std::vector<cluster_link_v1> unreachable;
  std::set<std::string> awaiting; // worker ids ("" is this node)
  std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
};

/// Keeps this node linked to every live peer that records an endpoint in
/// worker_instances, through CAF's middleman: probes, connects, monitors,
/// and retries with backoff. A link that fails (peer killed, paused, cut
/// off) is seen through the middleman's heartbeat, and every request
/// waiting on it fails at once (plan F7). Links carry no authority: they
/// make the cluster view possible and a cancel or drain fast; Postgres
/// remains the fallback for every one of them.
//
//   connecting --probe ok, connect ok--> up --DOWN--> down --backoff--> connecting
//   connecting --probe or connect failed--> down --backoff--> connecting
//   any --row STOPPED or gone--> dropped
struct cluster_state {
  static inline const char* name = "cluster";
  std::map<std::string, cluster_peer> peers; // by worker id
  cluster_face_v1 face;                      // this node's own, once published
  std::string endpoint;                      // where it listens
  std::string worker_id;                     // this node's, as now registered
  std::map<uint64_t, std::shared_ptr<cluster_gather>> gathers;
  uint64_t next_gather = 0;
  bool polling = false;
  std::minstd_rand jitter{std::random_device{}()};
};

cluster_actor::behavior_type
cluster_actor_impl(cluster_actor::stateful_pointer<cluster_state> self,
                   cluster_actor_config cfg, persistence_actor store,
                   supervisor_actor supervisor);

} // namespace leasehold
