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

} // namespace leasehold
