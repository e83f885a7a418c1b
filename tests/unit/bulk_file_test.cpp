#include "runtime/bulk_file.hpp"

#include <sstream>

#include <boost/test/unit_test.hpp>

using namespace leasehold;

namespace {

std::string error_of(const std::string& text) {
  std::istringstream in{text};
  try {
    read_bulk_jobs(in);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(bulk_file)

BOOST_AUTO_TEST_CASE(reads_every_field_and_skips_blank_lines) {
  std::istringstream in{
    "{\"type\":\"noop\"}\n\n"
    "{\"type\":\"sleep\",\"payload\":{\"ms\":5},\"queue\":\"q\","
    "\"priority\":-3,\"max_attempts\":2,\"correlation_id\":\"c1\"}\n"};
  auto jobs = read_bulk_jobs(in);
  BOOST_REQUIRE_EQUAL(jobs.size(), 2u);
  BOOST_TEST(jobs[0].type == "noop");
  BOOST_TEST(jobs[0].payload == "{}");
  BOOST_TEST(!jobs[0].queue.has_value());
  BOOST_TEST(jobs[1].payload == "{\"ms\":5}");
  BOOST_TEST(*jobs[1].queue == "q");
  BOOST_TEST(*jobs[1].priority == -3);
  BOOST_TEST(*jobs[1].max_attempts == 2);
  BOOST_TEST(*jobs[1].correlation_id == "c1");
}

BOOST_AUTO_TEST_CASE(the_first_bad_line_is_named) {
  BOOST_TEST(error_of("{\"type\":\"a\"}\n{oops\n") == "2: not valid JSON");
  BOOST_TEST(error_of("{\"type\":\"a\"}\n\n[1]\n")
             == "3: expected a JSON object");
  BOOST_TEST(error_of("{\"payload\":{}}") == "1: \"type\" is required");
  BOOST_TEST(error_of("{\"type\":\"\"}")
             == "1: \"type\" must be a non-empty string");
  BOOST_TEST(error_of("{\"type\":\"a\",\"max_attempts\":0}")
             == "1: \"max_attempts\" must be an integer from 1 to 1000000");
  BOOST_TEST(error_of("{\"type\":\"a\",\"tpye\":1}")
             == "1: unknown field \"tpye\"");
}

BOOST_AUTO_TEST_SUITE_END()
