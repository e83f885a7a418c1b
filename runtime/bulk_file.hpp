#pragma once

#include <istream>
#include <vector>

#include "persistence/store.hpp"
#include "runtime/input_limits.hpp"

namespace leasehold {

/// A bulk line may be this much longer than its payload limit (the other
/// fields of a job); a longer line is refused without reading it whole.
inline constexpr size_t bulk_line_slack = 64 * 1024;

/// Reads NDJSON jobs, one object per line: {"type": "...", "payload": {...},
/// "queue", "priority", "max_attempts", "run_at", "correlation_id"}. Blank
/// lines are skipped. Every input is bounded (see input_limits.hpp), lines
/// too: at most the payload limit plus bulk_line_slack. Throws
/// std::invalid_argument "LINE: what is wrong" at the first bad line, so
/// nothing is enqueued from a bad file, and std::runtime_error when the
/// stream cannot be read.
std::vector<new_job> read_bulk_jobs(std::istream& in, const input_limits& limits = {});

/// Reads a run's partitions as NDJSON, one {"key": "...", "payload": {...}}
/// per line; throws std::invalid_argument "LINE: what is wrong" (a missing
/// or duplicate key names its line).
std::vector<run_spec::partition> read_partitions(std::istream& in,
                                                const input_limits& limits = {});

/// Parses a run as JSON: {"type", "label", "on_complete", "max_attempts",
/// "partitions": [{"key", "payload"}, ...]}; throws std::invalid_argument.
run_spec parse_run_object(const std::string& json_text, const input_limits& limits = {});

/// Parses one job object (same fields as a bulk line); throws
/// std::invalid_argument saying what is wrong.
new_job parse_job_object(const std::string& json_text, const input_limits& limits = {});

} // namespace leasehold
