#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "messages/cluster_protocol.hpp"
#include "messages/protocols.hpp"

namespace leasehold {

class handler_pool;
struct node_metrics;

/// Settings of the cluster face.
struct cluster_face_config {
  std::string version;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// The handler threads, for the pool's use (may be null).
  std::shared_ptr<handler_pool> pool;
  /// How long the face waits for the node's own actors.
  std::chrono::milliseconds ask_timeout{200};
  /// Claim and completion rates are taken over at least this window.
  std::chrono::milliseconds rate_window{10000};
  /// This node's worker id (the v2 echo's answer).
  std::string worker_id;
  /// Where nudges are counted (may be null).
  std::shared_ptr<node_metrics> metrics;
};

/// The one actor a node publishes to its peers (and to `leasehold
/// cluster`). It answers from the node's actors and memory, never from the
/// job tables, and passes nudges to the supervisor. A peer may only ask:
/// nothing it says decides who owns a job.
struct cluster_face_state {
  static inline const char* name = "cluster_face";
  struct sample {
    std::chrono::steady_clock::time_point at;
    int64_t claimed = 0;
    int64_t completed = 0;
  };
  std::deque<sample> samples; // oldest first, taken by the views
};

/// `cluster` may be null (links off): the view then has no links, and
/// cluster_atom answers with this node alone.
cluster_face_v1::behavior_type
cluster_face_impl(cluster_face_v1::stateful_pointer<cluster_face_state> self,
                  cluster_face_config cfg, supervisor_actor supervisor,
                  cluster_actor cluster);

/// The face of a node that also speaks version 2 (--cluster-test-v2).
cluster_face_v2::behavior_type
cluster_face_v2_impl(cluster_face_v2::stateful_pointer<cluster_face_state> self,
                     cluster_face_config cfg, supervisor_actor supervisor,
                     cluster_actor cluster);

} // namespace leasehold
