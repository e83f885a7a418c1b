#include "tests/support/hostile_values.hpp"

#include <algorithm>
#include <cstdio>

namespace leasehold::test {

std::vector<std::string> hostile_values(bool with_nul) {
  std::vector<std::string> v = {
    "", " ", "abc", "-1", "0", "1.5", "1e9", "0x10", " 7", "7 ",
    "99999999999999999999", "-99999999999999999999", "9223372036854775807",
    "2147483648", "NaN", "999999999999h", "9999999999999ms",
    "'; DROP TABLE leasehold.jobs; --", "1 OR 1=1", "$1", "%s%n%x", "\\", "\"",
    "\xff\xfe", "\xc3\x28", "\xc0\xaf", "\xed\xa0\x80",
    "a\tb", "a\nb", "\x1b[31mred", "a\r\nX-Injected: 1",
    std::string(5000, 'x'), std::string(100000, 'y')};
  if (with_nul) {
    v.push_back(std::string("a\0b", 3));
    v.push_back(std::string("\0", 1));
  }
  return v;
}

std::string percent_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text.substr(0, 60)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (text.size() > 60)
    out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

size_t line_count(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace leasehold::test
