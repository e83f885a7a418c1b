#include "runtime/cron.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "runtime/duration.hpp"
#include "runtime/text.hpp"

namespace leasehold {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int days_in_month(int y, int m) {
  static const std::array<int, 12> n{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : n[m - 1];
}

int weekday(int y, int m, int d) { // 0 = Sunday; 1970-01-01 was a Thursday
  auto days = days_from_civil(y, m, d);
  return static_cast<int>(((days % 7) + 7 + 4) % 7);
}

const char* const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

int parse_value(std::string s, int min, int max, const char* const* names, int first,
                const std::string& field) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const int named = names == month_names ? 12 : names == day_names ? 7 : 0;
  for (int i = 0; i < named; ++i)
    if (s == names[i])
      return first + i;
  if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument(field + ": '" + one_line(s, 40) + "' is not a number");
  int v = std::stoi(s);
  if (v == 7 && field == "day of week")
    v = 0; // cron allows 7 for Sunday too
  if (v < min || v > max)
    throw std::invalid_argument(field + ": " + std::to_string(v) + " is outside "
                                + std::to_string(min) + "-" + std::to_string(max));
  return v;
}

// One field: "*", "*/n", "a", "a-b", "a-b/n", "a/n", lists of these.
template <size_t N>
bool parse_field(const std::string& text, int min, int max, const char* const* names,
                 int first, const std::string& field, std::bitset<N>& out) {
  bool restricted = text != "*" && text != "?";
  std::stringstream parts{text};
  std::string part;
  int count = 0;
  while (std::getline(parts, part, ',')) {
    ++count;
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string::npos) {
      auto s = part.substr(slash + 1);
      if (s.empty() || s.size() > 2 || s.find_first_not_of("0123456789") != std::string::npos
          || std::stoi(s) == 0)
        throw std::invalid_argument(field + ": bad step '" + one_line(s, 40) + "'");
      step = std::stoi(s);
      part = part.substr(0, slash);
      if (part != "*" && part.find('-') == std::string::npos)
        part += "-" + std::to_string(max); // "5/15": from 5 on
    }
    int lo = min, hi = max;
    if (part != "*" && part != "?") {
      auto dash = part.find('-');
      lo = parse_value(part.substr(0, dash), min, max, names, first, field);
      hi = dash == std::string::npos
             ? lo
             : parse_value(part.substr(dash + 1), min, max, names, first, field);
      if (hi < lo && !(field == "day of week" && hi == 0))
        throw std::invalid_argument(field + ": range '" + one_line(part, 40) + "' runs backwards");
      if (field == "day of week" && hi == 0 && lo > 0)
        hi = 7; // "FRI-SUN": to the end of the week
    }
    for (int v = lo; v <= hi; v += step)
      out.set(static_cast<size_t>(v) % N); // day of week 7 is Sunday, 0
  }
  if (count == 0 || text.back() == ',')
    throw std::invalid_argument(field + ": empty list item");
  return restricted;
}

} // namespace

std::string civil_time::text() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour,
                minute, second);
  return buf;
}

civil_time civil_time::parse(const std::string& text) {
  civil_time t;
  if (std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &t.year, &t.month, &t.day, &t.hour,
                  &t.minute, &t.second) != 6)
    throw std::invalid_argument("not a timestamp: '" + one_line(text, 40) + "'");
  return t;
}

int64_t civil_time::seconds() const {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

bool civil_time::operator<(const civil_time& o) const {
  return std::tie(year, month, day, hour, minute, second)
         < std::tie(o.year, o.month, o.day, o.hour, o.minute, o.second);
}

cron_expr cron_expr::parse(const std::string& raw) {
  auto text = raw;
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  while (!text.empty() && text.front() == ' ')
    text.erase(0, 1);
  if (text.size() > 200)
    throw std::invalid_argument("a cron expression is at most 200 characters");
  cron_expr c;
  if (text.rfind("@every ", 0) == 0) {
    std::chrono::milliseconds d;
    try {
      d = parse_duration(text.substr(7));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string{"@every: "} + e.what());
    }
    if (d < std::chrono::seconds{1})
      throw std::invalid_argument("@every needs a period of at least 1s");
    c.every_ = d;
    return c;
  }
  static const std::vector<std::pair<std::string, std::string>> shortcuts = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"}};
  for (const auto& [name, fields] : shortcuts)
    if (text == name)
      text = fields;
  if (!text.empty() && text[0] == '@')
    throw std::invalid_argument("unknown shortcut '" + one_line(text, 40)
                                + "' (@yearly, @monthly, @weekly, @daily, @hourly, @every D)");
  std::stringstream in{text};
  std::vector<std::string> f;
  for (std::string s; in >> s;)
    f.push_back(s);
  if (f.size() != 5)
    throw std::invalid_argument("expected five fields (minute hour day-of-month month"
                                " day-of-week), got " + std::to_string(f.size()));
  parse_field(f[0], 0, 59, nullptr, 0, "minute", c.minutes_);
  parse_field(f[1], 0, 23, nullptr, 0, "hour", c.hours_);
  c.days_restricted_ = parse_field(f[2], 1, 31, nullptr, 1, "day of month", c.days_);
  parse_field(f[3], 1, 12, month_names, 1, "month", c.months_);
  c.weekdays_restricted_ = parse_field(f[4], 0, 7, day_names, 0, "day of week", c.weekdays_);
  return c;
}

bool cron_expr::day_matches(int y, int m, int d) const {
  bool dom = days_.test(static_cast<size_t>(d));
  bool dow = weekdays_.test(static_cast<size_t>(weekday(y, m, d)));
  if (days_restricted_ && weekdays_restricted_)
    return dom || dow;
  return dom && dow;
}

std::optional<civil_time> cron_expr::next_after(const civil_time& after) const {
  if (every_)
    return std::nullopt;
  // Walk days, then hours, then minutes: at most ~3,000 days and 24 x 60
  // checks in the first, so a sparse schedule costs microseconds.
  int y = after.year, m = after.month, d = after.day;
  int h = after.hour, mi = after.minute + 1; // strictly after, to the minute
  for (int days = 0; days < 366 * 8; ++days) {
    if (months_.test(static_cast<size_t>(m)) && day_matches(y, m, d)) {
      for (; h < 24; ++h, mi = 0) {
        if (!hours_.test(static_cast<size_t>(h)))
          continue;
        for (; mi < 60; ++mi)
          if (minutes_.test(static_cast<size_t>(mi)))
            return civil_time{y, m, d, h, mi, 0};
      }
    }
    h = 0;
    mi = 0;
    if (++d > days_in_month(y, m)) {
      d = 1;
      if (++m > 12) {
        m = 1;
        ++y;
      }
    }
  }
  return std::nullopt;
}

} // namespace leasehold
