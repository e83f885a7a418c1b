#include "runtime/duration.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <stdexcept>

#include "runtime/text.hpp"

namespace leasehold {

std::chrono::milliseconds parse_duration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  auto unit = text.substr(digits);
  // The text is quoted in the message: as one line, a long one cut.
  auto shown = one_line(text, 40);
  if (digits == 0 || unit.empty())
    throw std::invalid_argument("invalid duration '" + shown
                                + "' (use e.g. 250ms, 10s, 2m, 1h)");
  int64_t per_unit = 0;
  if (unit == "ms")
    per_unit = 1;
  else if (unit == "s")
    per_unit = 1000;
  else if (unit == "m")
    per_unit = 60000;
  else if (unit == "h")
    per_unit = 3600000;
  else if (unit == "d")
    per_unit = 86400000;
  else
    throw std::invalid_argument("invalid duration unit in '" + shown
                                + "' (use ms, s, m, h or d)");
  // Checked before it is multiplied: 13 digits of hours would overflow.
  auto number = text.substr(0, digits);
  number.erase(0, std::min(number.find_first_not_of('0'), number.size() - 1));
  int64_t limit = max_duration.count() / per_unit;
  if (number.size() > 12 || std::stoll(number) > limit)
    throw std::invalid_argument("duration '" + shown + "' is too long: at most "
                                + format_duration(max_duration));
  return std::chrono::milliseconds{std::stoll(number) * per_unit};
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
