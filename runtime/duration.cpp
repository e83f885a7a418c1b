#include "runtime/duration.hpp"

#include <cctype>
#include <stdexcept>

namespace leasehold {

std::chrono::milliseconds parse_duration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  auto unit = text.substr(digits);
  if (digits == 0 || digits > 12 || unit.empty())
    throw std::invalid_argument("invalid duration '" + text
                                + "' (use e.g. 250ms, 10s, 2m, 1h)");
  auto n = std::stoll(text.substr(0, digits));
  if (unit == "ms")
    return std::chrono::milliseconds{n};
  if (unit == "s")
    return std::chrono::seconds{n};
  if (unit == "m")
    return std::chrono::minutes{n};
  if (unit == "h")
    return std::chrono::hours{n};
  throw std::invalid_argument("invalid duration unit in '" + text
                              + "' (use ms, s, m or h)");
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 3600000 == 0 && ms != 0)
    return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0 && ms != 0)
    return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0 && ms != 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

} // namespace leasehold
