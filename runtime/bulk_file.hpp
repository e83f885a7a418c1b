#pragma once

#include <istream>
#include <vector>

#include "persistence/store.hpp"

namespace leasehold {

/// Reads NDJSON jobs, one object per line: {"type": "...", "payload": {...},
/// "queue", "priority", "max_attempts", "run_at", "correlation_id"}. Blank
/// lines are skipped. Throws std::invalid_argument "LINE: what is wrong" at
/// the first bad line, so nothing is enqueued from a bad file.
std::vector<new_job> read_bulk_jobs(std::istream& in);

/// Parses one job object (same fields as a bulk line); throws
/// std::invalid_argument saying what is wrong.
new_job parse_job_object(const std::string& json_text);

} // namespace leasehold
