#pragma once

#include <chrono>
#include <string>

namespace leasehold {

/// The longest duration any option takes: a year (8760h). Longer ones
/// would overflow once turned into nanoseconds or a Postgres interval.
inline constexpr std::chrono::milliseconds max_duration = std::chrono::hours{8760};

/// Parses durations written like "250ms", "10s", "2m", "1h" or "7d", up to
/// max_duration. Throws std::invalid_argument with a one-line message on
/// anything else.
std::chrono::milliseconds parse_duration(const std::string& text);

/// Formats a duration the way parse_duration reads it, e.g. "10s".
std::string format_duration(std::chrono::milliseconds d);

} // namespace leasehold
