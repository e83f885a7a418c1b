#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/defaults.hpp"

/// Bounds on what may become a job, checked at every entry point (CLI,
/// bulk file, HTTP, runs, children) before anything is written. Each check
/// throws std::invalid_argument with a one-line reason.
namespace leasehold {

/// JSON nested deeper than this is refused before it is parsed: nlohmann
/// serializes recursively and Postgres' jsonb parser has a stack limit.
inline constexpr size_t max_json_depth = 1000;

/// Longest type, queue, correlation id or label, in bytes.
inline constexpr size_t max_name_bytes = 200;

/// Priorities are a smallint column.
inline constexpr int32_t min_priority = -32768;
inline constexpr int32_t max_priority = 32767;

/// The largest --max-payload-bytes (jsonb values stop at 255 MiB).
inline constexpr int64_t max_payload_limit = int64_t{100} << 20;

struct input_limits {
  /// Largest payload, as compact JSON text (--max-payload-bytes).
  size_t max_payload_bytes = defaults::max_payload_bytes;
  /// Largest output an attempt keeps (--max-output-bytes).
  size_t max_output_bytes = defaults::max_output_bytes;
};

/// The text under which a handler's output is stored: "" for null (no
/// output), else compact JSON Postgres accepts whatever the handler built.
/// Invalid UTF-8 becomes U+FFFD and NUL characters U+FFFD; output nested
/// deeper than max_json_depth is replaced by {"output_refused": why}; output
/// longer than `max_bytes` by {"truncated": true, "bytes": N, "head": the
/// first KiB of its text}. Never throws for the output's sake: an attempt's
/// outcome must stay writable.
std::string output_text(const nlohmann::json& output, size_t max_bytes);

/// Limits for --max-payload-bytes `bytes`; throws std::invalid_argument
/// unless it is from 2 ("{}") to max_payload_limit.
input_limits payload_limits(int64_t bytes);

/// Refuses JSON text nested deeper than max_json_depth (plus the levels
/// of an envelope around the payloads, e.g. 1 for a bulk line's object),
/// or holding a NUL byte.
/// One pass, no recursion: safe on any input, so it runs before anything
/// parses the text.
void check_json_text(std::string_view text, size_t envelope_levels = 0);

/// Parses a payload given as text and returns it as compact JSON within
/// the size limit.
std::string payload_from_text(std::string_view text, const input_limits& limits);

/// The compact text of a parsed payload (a bulk line's, a child's): depth
/// checked without recursion before it is serialized, then NUL and size.
std::string payload_from_json(const nlohmann::json& payload, const input_limits& limits);

/// Refuses a payload's compact JSON text when it is over the size limit,
/// too deep, or holds a \u0000 escape (jsonb cannot store NUL).
void check_payload_text(std::string_view payload, const input_limits& limits);

/// A name-like field (type, queue, correlation id, ...): non-empty, at
/// most max_name_bytes, valid UTF-8, no control characters.
void check_name(const std::string& field, const std::string& value);

} // namespace leasehold
