#pragma once

#include <caf/fwd.hpp>

namespace leasehold {

/// Registers every leasehold message type and error category with CAF, so
/// that the same names exist on every node of a cluster.
void register_messages(caf::actor_system_config& cfg);

/// Registers what cluster protocol version 2 adds (--cluster-test-v2 only).
void register_cluster_v2(caf::actor_system_config& cfg);

} // namespace leasehold
