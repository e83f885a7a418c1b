// Cron expressions: fields, lists, ranges, steps, names, shortcuts, @every,
// the day-of-month / day-of-week rule, and what is refused.
#include "runtime/cron.hpp"

#include <boost/test/unit_test.hpp>

using namespace leasehold;
using namespace std::chrono_literals;

namespace {

std::string next(const std::string& expr, const std::string& after) {
  auto t = cron_expr::parse(expr).next_after(civil_time::parse(after));
  return t ? t->text() : "none";
}

} // namespace

BOOST_AUTO_TEST_SUITE(cron)

BOOST_AUTO_TEST_CASE(each_kind_of_field_finds_the_next_minute) {
  BOOST_TEST(next("* * * * *", "2026-12-07 10:15:30") == "2026-12-07 10:16:00");
  BOOST_TEST(next("*/15 * * * *", "2026-12-07 10:15:00") == "2026-12-07 10:30:00");
  BOOST_TEST(next("5,35 * * * *", "2026-12-07 10:40:00") == "2026-12-07 11:05:00");
  BOOST_TEST(next("0 9-17/4 * * *", "2026-12-07 13:00:00") == "2026-12-07 17:00:00");
  BOOST_TEST(next("0 0 1 * *", "2026-12-07 10:00:00") == "2027-01-01 00:00:00");
  BOOST_TEST(next("30 8 * * MON-FRI", "2026-12-11 09:00:00") == "2026-12-14 08:30:00");
  BOOST_TEST(next("0 12 * FEB *", "2026-12-07 00:00:00") == "2027-02-01 12:00:00");
  BOOST_TEST(next("0 0 29 2 *", "2026-03-01 00:00:00") == "2028-02-29 00:00:00");
  BOOST_TEST(next("0 0 * * 7", "2026-12-07 00:00:00") == "2026-12-13 00:00:00"); // 7 = Sunday
  BOOST_TEST(next("0 0 * * FRI-SUN", "2026-12-07 00:00:00") == "2026-12-11 00:00:00");
}

BOOST_AUTO_TEST_CASE(day_of_month_and_day_of_week_both_restricted_mean_either) {
  // The 15th, or any Monday: 2026-12-07 is a Monday.
  BOOST_TEST(next("0 0 15 * MON", "2026-12-07 00:00:00") == "2026-12-14 00:00:00");
  BOOST_TEST(next("0 0 15 * MON", "2026-12-14 00:00:00") == "2026-12-15 00:00:00");
}

BOOST_AUTO_TEST_CASE(shortcuts_and_every) {
  BOOST_TEST(next("@hourly", "2026-12-07 10:15:00") == "2026-12-07 11:00:00");
  BOOST_TEST(next("@daily", "2026-12-07 10:15:00") == "2026-12-08 00:00:00");
  BOOST_TEST(next("@weekly", "2026-12-07 10:15:00") == "2026-12-13 00:00:00");
  BOOST_TEST(next("@monthly", "2026-12-07 10:15:00") == "2027-01-01 00:00:00");
  BOOST_TEST(next("@yearly", "2026-12-07 10:15:00") == "2027-01-01 00:00:00");
  auto every = cron_expr::parse("@every 1s");
  BOOST_REQUIRE(every.every().has_value());
  BOOST_TEST(every.every()->count() == 1000);
  BOOST_TEST(cron_expr::parse("@every 90m").every()->count() == 90 * 60 * 1000);
  BOOST_TEST(!cron_expr::parse("* * * * *").every().has_value());
}

BOOST_AUTO_TEST_CASE(a_date_that_never_comes_has_no_next_tick) {
  BOOST_TEST(next("0 0 30 2 *", "2026-12-07 00:00:00") == "none");
}

BOOST_AUTO_TEST_CASE(bad_expressions_say_what_is_wrong) {
  for (const auto& [expr, says] : std::vector<std::pair<std::string, std::string>>{
         {"* * *", "five fields"}, {"60 * * * *", "minute: 60"}, {"* 24 * * *", "hour"},
         {"* * 0 * *", "day of month"}, {"* * * 13 *", "month"}, {"* * * * 8", "day of week"},
         {"*/0 * * * *", "step"}, {"5-1 * * * *", "backwards"}, {"x * * * *", "not a number"},
         {"1,,2 * * * *", "minute"}, {"@fortnightly", "unknown shortcut"},
         {"@every 500ms", "at least 1s"}, {"@every soon", "@every"}, {"", "five fields"}}) {
    try {
      cron_expr::parse(expr);
      BOOST_ERROR("accepted '" << expr << "'");
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string{e.what()}.find(says) != std::string::npos, expr << ": " << e.what());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
