#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace leasehold {

/// A wall-clock time in a schedule's time zone, to the second.
struct civil_time {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;

  /// "2026-12-07 13:05:00", as Postgres reads a timestamp.
  std::string text() const;
  /// Parses "YYYY-MM-DD HH:MM:SS[.fraction]" (Postgres' timestamp output).
  static civil_time parse(const std::string& text);
  bool operator<(const civil_time& o) const;
  /// Seconds since 1970-01-01 00:00:00 of this wall-clock reading, as if
  /// it were UTC: differences between two readings in one zone.
  int64_t seconds() const;
  bool operator<=(const civil_time& o) const { return !(o < *this); }
};

/// When a schedule ticks: a five-field cron expression ("*/5 9-17 * * MON-FRI":
/// minute, hour, day of month, month, day of week; lists, ranges, steps,
/// month and day names; day of month and day of week both restricted means
/// either, as in cron), a shortcut (@yearly, @annually, @monthly, @weekly,
/// @daily, @midnight, @hourly), or "@every DURATION" (1s at least): a fixed
/// period counted from the Unix epoch, whatever the time zone.
class cron_expr {
public:
  /// Throws std::invalid_argument saying what is wrong.
  static cron_expr parse(const std::string& text);

  /// The period of an @every schedule; nullopt for a cron one.
  std::optional<std::chrono::milliseconds> every() const { return every_; }

  /// The first minute strictly after `t` that matches (seconds are 0),
  /// nullopt when none does within eight years (say, February 30th).
  std::optional<civil_time> next_after(const civil_time& t) const;

private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;    // 1..31
  std::bitset<13> months_;  // 1..12
  std::bitset<7> weekdays_; // 0 = Sunday
  bool days_restricted_ = false, weekdays_restricted_ = false;
  std::optional<std::chrono::milliseconds> every_;

  bool day_matches(int year, int month, int day) const;
};

} // namespace leasehold
