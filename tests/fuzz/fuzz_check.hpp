#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

/// Invariants a fuzz target asserts: a broken one aborts, which libFuzzer
/// reports as a crash and saves the input that did it.
namespace leasehold::fuzz {

/// Aborts with `what` unless `ok`.
inline void require(bool ok, const char* what, const std::string& detail = "") {
  if (ok)
    return;
  std::fprintf(stderr, "invariant broken: %s: %.300s\n", what, detail.c_str());
  std::abort();
}

/// An error message for people: one line, non-empty, not huge.
inline void require_one_line(const std::string& message) {
  require(!message.empty(), "empty error message");
  require(message.find('\n') == std::string::npos, "error message of several lines",
          message);
  require(message.size() <= 600, "error message over 600 bytes", message.substr(0, 300));
}

} // namespace leasehold::fuzz
