#pragma once

#include <string>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/cluster_types.hpp"

/// The one actor a node publishes to its peers, and its frozen version-1
/// interface. CAF compares interfaces by the text of their atoms and
/// registered type names: never rename one. Version 2 will be
/// `cluster_face_v1::extend<...>` with new atoms and types, sent only to
/// peers whose interface has them.
namespace leasehold {

/// This node's live state (a cluster_view_v1).
using view_atom = caf::atom_constant<caf::atom("lh_view")>;
/// The whole cluster as this node sees it, gathered from its peers: JSON.
using cluster_atom = caf::atom_constant<caf::atom("lh_cluster")>;
/// "Look at Postgres now": topic "leases" (renew at once, so a cancel or a
/// drain is seen) or "queues" (read paused queues). Unknown: false.
using nudge_atom = caf::atom_constant<caf::atom("lh_nudge")>;

using cluster_face_v1 = caf::typed_actor<
  caf::replies_to<view_atom>::with<cluster_view_v1>,
  caf::replies_to<cluster_atom>::with<std::string>,
  caf::replies_to<nudge_atom, std::string>::with<bool>>;

/// Version 2, as a newer node would add it: one more message, with a type
/// of its own. Only nodes started with --cluster-test-v2 speak it (the
/// rolling-deploy test); they send it only to peers whose interface has it.
using echo2_atom = caf::atom_constant<caf::atom("lh_echo2")>;
using cluster_face_v2 = cluster_face_v1::extend<
  caf::replies_to<echo2_atom, cluster_echo_v2>::with<cluster_echo_v2>>;

} // namespace leasehold
