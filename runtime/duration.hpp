#pragma once

#include <chrono>
#include <string>

namespace leasehold {

/// Parses durations written like "250ms", "10s", "2m" or "1h". Throws
/// std::invalid_argument with a one-line message on anything else.
std::chrono::milliseconds parse_duration(const std::string& text);

/// Formats a duration the way parse_duration reads it, e.g. "10s".
std::string format_duration(std::chrono::milliseconds d);

} // namespace leasehold
