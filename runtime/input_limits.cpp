#include "runtime/input_limits.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "runtime/text.hpp"

namespace leasehold {

namespace {

[[noreturn]] void too_deep() {
  throw std::invalid_argument("payload nested too deep: more than "
                              + std::to_string(max_json_depth) + " levels");
}

// One pass over JSON text: nesting depth outside strings, and whether a
// string holds a \u0000 escape. No recursion, whatever the input.
void scan(std::string_view text, size_t max_depth, bool refuse_nul) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    // nlohmann takes a NUL byte for the end of the input: what follows
    // would be ignored rather than refused.
    if (c == '\0')
      throw std::invalid_argument("not valid JSON: a NUL byte");
    if (in_string) {
      if (c == '"') {
        in_string = false;
      } else if (c == '\\' && i + 1 < text.size()) {
        if (refuse_nul && text.compare(i + 1, 5, "u0000") == 0)
          throw std::invalid_argument(
            "payload holds \\u0000 (NUL) in a string, which PostgreSQL cannot store");
        ++i; // the escaped character cannot end the string
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        too_deep();
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

// Nesting depth of a parsed value, with an explicit stack: dump() recurses.
size_t depth_of(const nlohmann::json& value, size_t stop_after) {
  size_t deepest = 0;
  std::vector<std::pair<const nlohmann::json*, size_t>> todo{{&value, 0}};
  while (!todo.empty()) {
    auto [j, depth] = todo.back();
    todo.pop_back();
    if (!j->is_structured())
      continue;
    deepest = std::max(deepest, depth + 1);
    if (deepest > stop_after)
      return deepest;
    for (const auto& child : *j)
      todo.push_back({&child, depth + 1});
  }
  return deepest;
}

// Compact JSON text with every escaped NUL inside strings (backslash u0000)
// turned into U+FFFD (jsonb cannot store NUL); an escaped backslash stays.
std::string without_nul_escapes(std::string text) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!in_string) {
      in_string = text[i] == '"';
    } else if (text[i] == '"') {
      in_string = false;
    } else if (text[i] == '\\' && i + 1 < text.size()) {
      if (text.compare(i + 1, 5, "u0000") == 0)
        text.replace(i + 1, 5, "ufffd");
      ++i;
    }
  }
  return text;
}

} // namespace

std::string output_text(const nlohmann::json& output, size_t max_bytes) {
  if (output.is_null() || output.is_discarded())
    return "";
  if (depth_of(output, max_json_depth) > max_json_depth)
    return nlohmann::json{{"output_refused", "nested deeper than "
                                               + std::to_string(max_json_depth)
                                               + " levels"}}.dump();
  auto text = without_nul_escapes(
    output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (text.size() <= max_bytes)
    return text;
  // The marker must stay within the bound too (--max-output-bytes 100).
  const size_t head_bytes = std::min<size_t>(1024, max_bytes / 2);
  return nlohmann::json{{"truncated", true},
                        {"bytes", text.size()},
                        {"head", clean_text(text, head_bytes)}}.dump();
}

input_limits payload_limits(int64_t bytes) {
  if (bytes < 2 || bytes > max_payload_limit)
    throw std::invalid_argument("invalid --max-payload-bytes " + std::to_string(bytes)
                                + ": must be from 2 to " + std::to_string(max_payload_limit));
  return {static_cast<size_t>(bytes)};
}

void check_json_text(std::string_view text, size_t envelope_levels) {
  scan(text, max_json_depth + envelope_levels, false);
}

void check_payload_text(std::string_view payload, const input_limits& limits) {
  if (payload.size() > limits.max_payload_bytes)
    throw std::invalid_argument("payload is " + std::to_string(payload.size())
                                + " bytes, over the limit of "
                                + std::to_string(limits.max_payload_bytes)
                                + " bytes (--max-payload-bytes)");
  scan(payload, max_json_depth, true);
}

std::string payload_from_text(std::string_view text, const input_limits& limits) {
  check_json_text(text);
  auto payload = nlohmann::json::parse(text, nullptr, false);
  if (payload.is_discarded())
    throw std::invalid_argument("payload is not valid JSON");
  auto out = payload.dump();
  check_payload_text(out, limits);
  return out;
}

std::string payload_from_json(const nlohmann::json& payload, const input_limits& limits) {
  if (depth_of(payload, max_json_depth) > max_json_depth)
    too_deep();
  std::string out;
  try {
    out = payload.dump();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument("payload holds a string that is not valid UTF-8");
  }
  check_payload_text(out, limits); // a NUL in a string is now a \u0000 escape
  return out;
}

void check_name(const std::string& field, const std::string& value) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("\"" + field + "\" " + why);
  };
  if (value.empty())
    throw bad("must be a non-empty string");
  if (value.size() > max_name_bytes)
    throw bad("must be at most " + std::to_string(max_name_bytes) + " bytes");
  for (size_t i = 0; i < value.size();) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f)
      throw bad("must not contain control characters");
    auto n = utf8_sequence_length(value, i);
    if (n == 0)
      throw bad("must be valid UTF-8");
    i += n;
  }
}

} // namespace leasehold
