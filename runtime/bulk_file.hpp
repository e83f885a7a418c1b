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
/// "queue", "priority", "max_attempts", "run_at", "correlation_id",
/// "unique_key", "unique_while", "unique_for" (a duration: "1h"),
/// "concurrency_key"}. Blank
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

/// Names of the unique-key fields in messages: a bulk line's or the CLI's.
struct unique_field_names {
  const char* key = "\"unique_key\"";
  const char* mode = "\"unique_while\"";
  const char* period = "\"unique_for\"";
};

/// Sets a job's unique key (migration 017): `mode` queued, active (the
/// default) or any; `period` a duration (1h, 30s) that bounds the key to a
/// window of that length. Throws std::invalid_argument naming the field.
void set_unique(new_job& job, const std::optional<std::string>& key,
                const std::optional<std::string>& mode,
                const std::optional<std::string>& period,
                const unique_field_names& names = {});

/// Parses a schedule as JSON: {"name", "cron", "type", "payload", "queue",
/// "priority", "max_attempts", "tz", "catch_up"}; the cron expression is
/// checked here. Throws std::invalid_argument saying what is wrong.
schedule_spec parse_schedule_object(const std::string& json_text,
                                    const input_limits& limits = {});

/// Parses one job object (same fields as a bulk line); throws
/// std::invalid_argument saying what is wrong.
new_job parse_job_object(const std::string& json_text, const input_limits& limits = {});

} // namespace leasehold
