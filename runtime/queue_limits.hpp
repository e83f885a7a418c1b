#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

/// A queue's limits as operators give them (`leasehold queue limit`,
/// POST /queues/{q}/limits) and as they are shown.
namespace leasehold {

/// Checks limits given as {"concurrency": N, "per_key": M, "rate": "10/s",
/// "burst": B}, each optional, null (or 0) removing one, and returns them
/// as leasehold.set_queue_limits() takes them (migrations 022-024). A rate
/// is JOBS/PERIOD: 10/s, 600/min, 5/500ms. Throws std::invalid_argument
/// with a one-line reason.
std::string checked_queue_limits(const nlohmann::json& asked);

/// A queue's limits in words, from its JSON (GET /queues, or what
/// set_queue_limits returned); `all` names the ones not set too.
std::string queue_limits_text(const nlohmann::json& queue, bool all = true);

} // namespace leasehold
