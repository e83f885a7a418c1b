#include "runtime/log.hpp"

#include <mutex>
#include <stdexcept>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "messages/job_types.hpp"

namespace leasehold::log {

namespace {

std::string worker_id_field; // set once at startup, before actors run

spdlog::logger& logger() {
  static auto instance = [] {
    auto l = spdlog::stderr_logger_mt("leasehold");
    // spdlog supplies ts and level; write() supplies the rest of the object.
    l->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                   spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *instance;
}

spdlog::level::level_enum to_spdlog(level lvl) {
  switch (lvl) {
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
    case level::critical:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

} // namespace

void init(const std::string& worker_id, level min_level) {
  worker_id_field = worker_id;
  logger().set_level(to_spdlog(min_level));
}

level parse_level(const std::string& text) {
  if (text == "debug")
    return level::debug;
  if (text == "info")
    return level::info;
  if (text == "warn")
    return level::warn;
  if (text == "error")
    return level::error;
  if (text == "critical")
    return level::critical;
  throw std::invalid_argument("unknown log level '" + text
                              + "' (debug, info, warn, error, critical)");
}

bool enabled(level lvl) {
  return logger().should_log(to_spdlog(lvl));
}

void write(level lvl, std::string_view msg, const nlohmann::json& fields) {
  if (!enabled(lvl))
    return;
  auto& l = logger();
  nlohmann::json line = {{"msg", msg}};
  if (!worker_id_field.empty())
    line["worker_id"] = worker_id_field;
  if (fields.is_object())
    line.update(fields);
  auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Drop the braces: the pattern adds ts and level in front.
  l.log(to_spdlog(lvl), "{}", std::string_view{text}.substr(1, text.size() - 2));
}

nlohmann::json job_fields(const claimed_job& job) {
  return {{"job_id", job.id},
          {"type", job.type},
          {"attempt", job.attempt},
          {"correlation_id", job.correlation_id},
          {"trace_id", job.trace_id}};
}

} // namespace leasehold::log
