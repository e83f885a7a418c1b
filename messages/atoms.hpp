#pragma once

#include <caf/atom.hpp>

/// Message tags shared by leasehold's actors. Atom text is at most 10 chars.
namespace leasehold {

using claim_atom = caf::atom_constant<caf::atom("claim")>;
using schedule_atom = caf::atom_constant<caf::atom("lh_sched")>;
using renew_atom = caf::atom_constant<caf::atom("renew")>;
using complete_atom = caf::atom_constant<caf::atom("complete")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using connect_atom = caf::atom_constant<caf::atom("lh_connect")>;
using listen_atom = caf::atom_constant<caf::atom("lh_listen")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using slot_atom = caf::atom_constant<caf::atom("slot")>;
using spawn_atom = caf::atom_constant<caf::atom("lh_spawn")>;
using leases_atom = caf::atom_constant<caf::atom("leases")>;
using lost_atom = caf::atom_constant<caf::atom("lost")>;
using done_atom = caf::atom_constant<caf::atom("lh_done")>;
using run_atom = caf::atom_constant<caf::atom("lh_run")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using stop_atom = caf::atom_constant<caf::atom("lh_stop")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using rescue_atom = caf::atom_constant<caf::atom("rescue")>;
using status_atom = caf::atom_constant<caf::atom("lh_status")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using orphan_atom = caf::atom_constant<caf::atom("orphan")>;
using core_atom = caf::atom_constant<caf::atom("core")>;
using observe_atom = caf::atom_constant<caf::atom("observe")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using register_atom = caf::atom_constant<caf::atom("lh_reg")>;
using timeout_atom = caf::atom_constant<caf::atom("lh_timeout")>;
using unclaim_atom = caf::atom_constant<caf::atom("unclaim")>;
using prefetch_atom = caf::atom_constant<caf::atom("prefetch")>;
using ran_atom = caf::atom_constant<caf::atom("lh_ran")>;
using queues_atom = caf::atom_constant<caf::atom("lh_queues")>;
using control_atom = caf::atom_constant<caf::atom("lh_ctrl")>;
using pause_atom = caf::atom_constant<caf::atom("lh_pause")>;
using limited_atom = caf::atom_constant<caf::atom("lh_limited")>;
using prune_atom = caf::atom_constant<caf::atom("lh_prune")>;
// Cluster links (actors/cluster_actor.hpp); the wire atoms are in
// messages/cluster_protocol.hpp.
using face_atom = caf::atom_constant<caf::atom("lh_face")>;
using links_atom = caf::atom_constant<caf::atom("lh_links")>;
using notify_atom = caf::atom_constant<caf::atom("lh_notify")>;
using retry_atom = caf::atom_constant<caf::atom("lh_retry")>;
using probe_atom = caf::atom_constant<caf::atom("lh_probe")>;
using inflight_atom = caf::atom_constant<caf::atom("lh_infl")>;

} // namespace leasehold
