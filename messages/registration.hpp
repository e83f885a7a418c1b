#pragma once

#include <caf/fwd.hpp>

namespace leasehold {

/// Registers every leasehold message type and error category with CAF, so
/// that the same names exist on every node of a cluster.
void register_messages(caf::actor_system_config& cfg);

} // namespace leasehold
