// Durations (every --*-interval, --*-timeout, --lease-ttl, --grace, ...),
// --http-listen and schedules' cron expressions: a value within 0..8760h
// that formats back to itself, a schedule whose next tick is later than the
// time it follows, or one line saying why not.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "runtime/cron.hpp"
#include "runtime/duration.hpp"
#include "runtime/http_bridge.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace leasehold;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto d = parse_duration(text);
    fuzz::require(d.count() >= 0 && d <= max_duration, "duration out of range", text);
    auto formatted = format_duration(d);
    fuzz::require(parse_duration(formatted) == d, "duration does not round-trip", formatted);
  } catch (const std::invalid_argument& e) {
    fuzz::require_one_line(e.what());
  }
  try {
    auto cfg = parse_http_listen(text);
    fuzz::require(cfg.port >= 0 && cfg.port <= 65535, "port out of range", text);
    fuzz::require(!cfg.host.empty(), "empty host accepted", text);
  } catch (const std::invalid_argument& e) {
    fuzz::require_one_line(e.what());
  }
  try {
    auto cron = cron_expr::parse(text);
    const civil_time from{2026, 12, 7, 10, 15, 30};
    if (auto next = cron.next_after(from))
      fuzz::require(from < *next && next->second == 0, "next tick not after its start", text);
  } catch (const std::invalid_argument& e) {
    fuzz::require_one_line(e.what());
  }
  return 0;
}
