#include "runtime/bulk_file.hpp"

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/cron.hpp"
#include "runtime/duration.hpp"
#include "runtime/text.hpp"

namespace leasehold {

namespace {

const std::set<std::string> known_fields = {
  "type", "payload", "queue", "priority", "max_attempts", "run_at",
  "correlation_id", "unique_key", "unique_while", "unique_for", "concurrency_key"};

std::optional<std::string> text_field(const nlohmann::json& obj,
                                      const char* key) {
  if (!obj.contains(key) || obj[key].is_null())
    return std::nullopt;
  if (!obj[key].is_string())
    throw std::invalid_argument(std::string{"\""} + key
                                + "\" must be a non-empty string");
  auto text = obj[key].get<std::string>();
  check_name(key, text);
  return text;
}

std::optional<int32_t> int_field(const nlohmann::json& obj, const char* key,
                                 int32_t min, int32_t max) {
  if (!obj.contains(key) || obj[key].is_null())
    return std::nullopt;
  if (!obj[key].is_number_integer() || obj[key].get<int64_t>() < min
      || obj[key].get<int64_t>() > max)
    throw std::invalid_argument(std::string{"\""} + key
                                + "\" must be an integer from "
                                + std::to_string(min) + " to "
                                + std::to_string(max));
  return static_cast<int32_t>(obj[key].get<int64_t>());
}

// Parses a JSON object whose payloads sit `levels` deep, depth checked first.
nlohmann::json parse_bounded(const std::string& text, size_t levels) {
  check_json_text(text, levels);
  return nlohmann::json::parse(text, nullptr, false);
}

std::string payload_of(const nlohmann::json& obj, const input_limits& limits) {
  // The whole text's depth was checked before it was parsed.
  auto text = obj["payload"].dump();
  check_payload_text(text, limits);
  return text;
}

} // namespace

void set_unique(new_job& job, const std::optional<std::string>& key,
                const std::optional<std::string>& mode,
                const std::optional<std::string>& period,
                const unique_field_names& names) {
  if (!key) {
    if (mode || period)
      throw std::invalid_argument(std::string{names.mode} + " and " + names.period
                                  + " need " + names.key);
    return;
  }
  try {
    check_name("unique_key", *key);
  } catch (const std::invalid_argument& e) {
    // check_name names the field "unique_key"; say it as the caller does.
    std::string what = e.what();
    throw std::invalid_argument(names.key + what.substr(what.find('"', 1) + 1));
  }
  if (mode && *mode != "queued" && *mode != "active" && *mode != "any")
    throw std::invalid_argument(std::string{names.mode} + " must be queued, active or any");
  job.unique_key = key;
  job.unique_while = mode;
  if (period) {
    std::chrono::milliseconds ms;
    try {
      ms = parse_duration(*period);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string{names.period} + ": " + e.what());
    }
    if (ms.count() <= 0)
      throw std::invalid_argument(std::string{names.period} + " must be positive");
    job.unique_for_ms = ms.count();
  }
}

schedule_spec parse_schedule_object(const std::string& text, const input_limits& limits) {
  static const std::set<std::string> fields = {"name", "cron", "type", "payload", "queue",
                                               "priority", "max_attempts", "tz", "catch_up"};
  auto obj = parse_bounded(text, 1);
  if (obj.is_discarded() || !obj.is_object())
    throw std::invalid_argument("expected a JSON object");
  for (const auto& item : obj.items())
    if (fields.count(item.key()) == 0)
      throw std::invalid_argument("unknown field \"" + one_line(item.key(), 100) + "\"");
  schedule_spec s;
  for (auto [key, out] : {std::pair<const char*, std::string*>{"name", &s.name},
                          {"cron", &s.cron}, {"type", &s.type}}) {
    auto v = text_field(obj, key);
    if (!v)
      throw std::invalid_argument(std::string{"\""} + key + "\" is required");
    *out = *v;
  }
  try {
    cron_expr::parse(s.cron);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string{"\"cron\": "} + e.what());
  }
  if (obj.contains("payload"))
    s.payload = payload_of(obj, limits);
  s.queue = text_field(obj, "queue").value_or(s.queue);
  s.tz = text_field(obj, "tz").value_or(s.tz);
  s.catch_up = text_field(obj, "catch_up").value_or(s.catch_up);
  if (s.catch_up != "none" && s.catch_up != "one" && s.catch_up != "all")
    throw std::invalid_argument("\"catch_up\" must be none, one or all");
  s.priority = int_field(obj, "priority", min_priority, max_priority).value_or(0);
  s.max_attempts = int_field(obj, "max_attempts", 1, 1000000).value_or(25);
  return s;
}

new_job parse_job_object(const std::string& line, const input_limits& limits) {
  auto obj = parse_bounded(line, 1);
  if (obj.is_discarded())
    throw std::invalid_argument("not valid JSON");
  if (!obj.is_object())
    throw std::invalid_argument("expected a JSON object");
  for (const auto& item : obj.items())
    if (known_fields.count(item.key()) == 0)
      throw std::invalid_argument("unknown field \"" + one_line(item.key(), 100) + "\"");
  new_job job;
  auto type = text_field(obj, "type");
  if (!type)
    throw std::invalid_argument("\"type\" is required");
  job.type = *type;
  if (obj.contains("payload"))
    job.payload = payload_of(obj, limits);
  job.queue = text_field(obj, "queue");
  job.run_at = text_field(obj, "run_at");
  job.correlation_id = text_field(obj, "correlation_id");
  job.concurrency_key = text_field(obj, "concurrency_key");
  job.priority = int_field(obj, "priority", min_priority, max_priority);
  job.max_attempts = int_field(obj, "max_attempts", 1, 1000000);
  set_unique(job, text_field(obj, "unique_key"), text_field(obj, "unique_while"),
             text_field(obj, "unique_for"));
  return job;
}

namespace {

run_spec::partition parse_partition(const nlohmann::json& obj,
                                    const input_limits& limits) {
  if (!obj.is_object())
    throw std::invalid_argument("expected a JSON object");
  for (const auto& item : obj.items())
    if (item.key() != "key" && item.key() != "payload")
      throw std::invalid_argument("unknown field \"" + one_line(item.key(), 100) + "\"");
  auto key = text_field(obj, "key");
  if (!key)
    throw std::invalid_argument("\"key\" is required");
  run_spec::partition p;
  p.key = *key;
  if (obj.contains("payload"))
    p.payload = payload_of(obj, limits);
  return p;
}

void check_unique(std::set<std::string>& seen, const std::string& key) {
  if (!seen.insert(key).second)
    throw std::invalid_argument("duplicate partition key \"" + key + "\"");
}

} // namespace

// Calls parse(line) for each non-blank line; an invalid_argument it throws
// is prefixed with the line's number. A line longer than `max_line` bytes
// is refused once that many are read (/dev/zero has no end of line).
template <class F>
void for_each_line(std::istream& in, size_t max_line, F&& parse) {
  std::vector<char> buf(max_line + 1); // a line of max_line bytes and its '\n'
  size_t number = 0;
  for (;;) {
    in.getline(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto got = static_cast<size_t>(in.gcount());
    if (in.bad())
      throw std::runtime_error("cannot read line " + std::to_string(number + 1));
    if (in.fail() && !in.eof())
      throw std::invalid_argument(std::to_string(number + 1) + ": line longer than "
                                  + std::to_string(max_line) + " bytes (the payload limit of "
                                  + std::to_string(max_line - bulk_line_slack)
                                  + " bytes plus " + std::to_string(bulk_line_slack) + ")");
    if (got == 0 && in.eof())
      return;
    ++number;
    std::string line(buf.data(), in.eof() ? got : got - 1); // without its '\n'
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      try {
        parse(line);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::to_string(number) + ": " + e.what());
      }
    }
    if (in.eof())
      return;
  }
}

std::vector<run_spec::partition> read_partitions(std::istream& in,
                                                const input_limits& limits) {
  std::vector<run_spec::partition> out;
  std::set<std::string> seen;
  for_each_line(in, limits.max_payload_bytes + bulk_line_slack, [&](const std::string& line) {
    auto obj = parse_bounded(line, 1);
    if (obj.is_discarded())
      throw std::invalid_argument("not valid JSON");
    out.push_back(parse_partition(obj, limits));
    check_unique(seen, out.back().key);
  });
  if (out.empty())
    throw std::invalid_argument("0: no partitions");
  return out;
}

run_spec parse_run_object(const std::string& json_text, const input_limits& limits) {
  // {"partitions": [{"payload": ...}]}: payloads sit 3 levels deep.
  auto obj = parse_bounded(json_text, 3);
  if (obj.is_discarded() || !obj.is_object())
    throw std::invalid_argument("expected a JSON object");
  for (const auto& item : obj.items())
    if (std::set<std::string>{"type", "label", "on_complete", "max_attempts",
                              "correlation_id", "partitions"}
          .count(item.key()) == 0)
      throw std::invalid_argument("unknown field \"" + one_line(item.key(), 100) + "\"");
  run_spec spec;
  auto type = text_field(obj, "type");
  if (!type)
    throw std::invalid_argument("\"type\" is required");
  spec.type = *type;
  spec.label = text_field(obj, "label");
  spec.on_complete_type = text_field(obj, "on_complete");
  spec.correlation_id = text_field(obj, "correlation_id");
  spec.max_attempts = int_field(obj, "max_attempts", 1, 1000000);
  if (!obj.contains("partitions") || !obj["partitions"].is_array()
      || obj["partitions"].empty())
    throw std::invalid_argument("\"partitions\" must be a non-empty array");
  std::set<std::string> seen;
  for (const auto& p : obj["partitions"]) {
    spec.partitions.push_back(parse_partition(p, limits));
    check_unique(seen, spec.partitions.back().key);
  }
  return spec;
}

std::vector<new_job> read_bulk_jobs(std::istream& in, const input_limits& limits) {
  std::vector<new_job> jobs;
  for_each_line(in, limits.max_payload_bytes + bulk_line_slack, [&](const std::string& line) {
    jobs.push_back(parse_job_object(line, limits));
  });
  return jobs;
}

} // namespace leasehold
