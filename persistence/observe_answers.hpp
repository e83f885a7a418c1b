#pragma once

#include <string>

#include "messages/job_types.hpp"
#include "persistence/store.hpp"
#include "runtime/input_limits.hpp"

namespace leasehold {

/// Answers an observer request (a read, or an operator's write such as a
/// retry, a cancel, an enqueue or a schedule change) with JSON text, "null"
/// when what it names does not exist. Client input it rejects throws
/// store_invalid_input (HTTP 400).
std::string answer_observe(store& db, const observe_request& req, const input_limits& limits);

} // namespace leasehold
