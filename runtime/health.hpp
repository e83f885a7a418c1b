#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

/// The rules that turn health figures into alerts.
namespace leasehold {

struct alert_thresholds {
  /// Queue lag (age of the oldest due job) that is critical (300s).
  int64_t lag_critical_seconds = 300;
  /// Dead jobs in 24h above which to warn (5).
  int64_t dead_warning = 5;
};

/// Adds `alerts` (a list of {severity, code, message}, critical first) to a
/// health document: critical for stuck jobs, leases held by unregistered or
/// revoked workers, lag, more than one active
/// singleton, instances hung in STOPPING; warning for job types no live
/// node serves, dead jobs, version drift and policy violations.
/// Messages say what and where to look next.
void add_alerts(nlohmann::json& health, const alert_thresholds& t);

} // namespace leasehold
