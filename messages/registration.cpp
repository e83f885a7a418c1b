#include "messages/registration.hpp"

#include <caf/actor_system_config.hpp>

#include "messages/cluster_types.hpp"
#include "messages/errors.hpp"
#include "messages/job_types.hpp"
#include "messages/retention.hpp"

namespace leasehold {

std::string to_string(exit_code code) {
  switch (code) {
    case exit_code::ownership_lost:
      return "ownership_lost";
    case exit_code::stopping_timeout:
      return "stopping_timeout";
    case exit_code::outcome_unwritten:
      return "outcome_unwritten";
    case exit_code::instance_lost:
      return "instance_lost";
  }
  return "exit_code_" + std::to_string(static_cast<int>(code));
}

std::string to_string(store_code code) {
  switch (code) {
    case store_code::unavailable:
      return "unavailable";
    case store_code::statement_failed:
      return "statement_failed";
    case store_code::invalid_input:
      return "invalid_input";
    case store_code::busy:
      return "busy";
  }
  return "store_code_" + std::to_string(static_cast<int>(code));
}

std::string reason_label(const caf::error& reason) {
  if (reason.category() == exit_category)
    return to_string(static_cast<exit_code>(reason.code()));
  if (reason.category() == store_category)
    return "store_" + to_string(static_cast<store_code>(reason.code()));
  if (reason.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(reason.code()));
  if (reason.category() == caf::atom("exit"))
    return caf::to_string(static_cast<caf::exit_reason>(reason.code()));
  return caf::to_string(reason);
}

void register_cluster_v2(caf::actor_system_config& cfg) {
  cfg.add_message_type<cluster_echo_v2>("leasehold::cluster_echo/2");
}

void register_messages(caf::actor_system_config& cfg) {
  cfg.add_message_type<claimed_job>("leasehold::claimed_job");
  cfg.add_message_type<lease_ref>("leasehold::lease_ref");
  cfg.add_message_type<claim_request>("leasehold::claim_request");
  cfg.add_message_type<progress_report>("leasehold::progress_report");
  cfg.add_message_type<queue_states>("leasehold::queue_states");
  cfg.add_message_type<renew_reply>("leasehold::renew_reply");
  cfg.add_message_type<rescue_request>("leasehold::rescue_request");
  cfg.add_message_type<observe_thresholds>("leasehold::observe_thresholds");
  cfg.add_message_type<observe_request>("leasehold::observe_request");
  cfg.add_message_type<rescue_reply>("leasehold::rescue_reply");
  cfg.add_message_type<child_job>("leasehold::child_job");
  cfg.add_message_type<job_outcome>("leasehold::job_outcome");
  cfg.add_message_type<written_outcome>("leasehold::written_outcome");
  cfg.add_message_type<node_stats>("leasehold::node_stats");
  cfg.add_message_type<retention_policy>("leasehold::retention_policy");
  cfg.add_message_type<prune_report>("leasehold::prune_report");
  cfg.add_message_type<std::vector<int64_t>>("std::vector<int64_t>");
  // Wire types of cluster links: versioned names, never renamed (F9).
  cfg.add_message_type<cluster_attempt_v1>("leasehold::cluster_attempt/1");
  cfg.add_message_type<cluster_link_v1>("leasehold::cluster_link/1");
  cfg.add_message_type<cluster_view_v1>("leasehold::cluster_view/1");
  cfg.add_error_category(
    exit_category, [](uint8_t code, caf::atom_value, const caf::message&) {
      return to_string(static_cast<exit_code>(code));
    });
  cfg.add_error_category(
    store_category, [](uint8_t code, caf::atom_value, const caf::message& ctx) {
      return "store_" + to_string(static_cast<store_code>(code))
             + (ctx.empty() ? "" : caf::to_string(ctx));
    });
}

} // namespace leasehold
