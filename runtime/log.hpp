#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace leasehold {
struct claimed_job;
}

/// Structured logs: one JSON object per line on stderr, with ts, level, msg,
/// this node's worker_id and any fields given.
namespace leasehold::log {

enum class level { debug, info, warn, error, critical };

/// Sets the worker id stamped on every line and the lowest level written.
void init(const std::string& worker_id, level min_level);

/// Parses "debug", "info", "warn", "error" or "critical".
level parse_level(const std::string& text);

void write(level lvl, std::string_view msg, const nlohmann::json& fields);

/// True when lines of this level are written; lets hot paths skip building
/// fields nobody reads.
bool enabled(level lvl);

/// The ids every line about an attempt carries: job_id, type, attempt,
/// correlation_id and trace_id.
nlohmann::json job_fields(const claimed_job& job);

inline void debug(std::string_view m, const nlohmann::json& f = {}) {
  write(level::debug, m, f);
}
inline void info(std::string_view m, const nlohmann::json& f = {}) {
  write(level::info, m, f);
}
inline void warn(std::string_view m, const nlohmann::json& f = {}) {
  write(level::warn, m, f);
}
inline void error(std::string_view m, const nlohmann::json& f = {}) {
  write(level::error, m, f);
}
inline void critical(std::string_view m, const nlohmann::json& f = {}) {
  write(level::critical, m, f);
}

} // namespace leasehold::log
