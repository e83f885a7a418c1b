#include "runtime/duration.hpp"

#include <boost/test/unit_test.hpp>

using namespace leasehold;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(every_unit_parses) {
  BOOST_TEST(parse_duration("250ms").count() == 250);
  BOOST_TEST(parse_duration("10s").count() == 10000);
  BOOST_TEST(parse_duration("2m").count() == 120000);
  BOOST_TEST(parse_duration("1h").count() == 3600000);
  BOOST_TEST(parse_duration("7d").count() == 7LL * 86400000); // retention
}

BOOST_AUTO_TEST_CASE(malformed_durations_are_rejected) {
  for (auto bad : {"", "10", "s", "-1s", "1.5s", "10 s", "10w", "ms10", "1.5d"})
    BOOST_CHECK_THROW(parse_duration(bad), std::invalid_argument);
}

// Found by the hostile-input work: 999999999999h was taken as 3.6e18 ms and
// overflowed once turned into nanoseconds or an interval.
BOOST_AUTO_TEST_CASE(durations_are_capped_at_a_year) {
  BOOST_TEST(parse_duration("8760h").count() == 8760LL * 3600000);
  BOOST_TEST(parse_duration("31536000000ms").count() == 31536000000LL);
  BOOST_TEST(parse_duration("0000000000000000000010s").count() == 10000);
  for (auto bad : {"8761h", "366d", "525601m", "31536001s", "31536000001ms", "999999999999h",
                   "99999999999999999999999ms"})
    BOOST_CHECK_EXCEPTION(parse_duration(bad), std::invalid_argument,
                          [](const std::invalid_argument& e) {
                            return std::string{e.what()}.find("at most 8760h")
                                   != std::string::npos;
                          });
}

BOOST_AUTO_TEST_CASE(formatting_round_trips) {
  for (auto text : {"250ms", "10s", "2m", "1h", "1500ms"})
    BOOST_TEST(format_duration(parse_duration(text)) == text);
}

BOOST_AUTO_TEST_SUITE_END()
