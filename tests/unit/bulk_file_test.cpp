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

BOOST_AUTO_TEST_CASE(hostile_lines_are_named_before_anything_parses_them) {
  auto deep = std::string(100000, '[') + std::string(100000, ']');
  BOOST_TEST(error_of("{\"type\":\"a\"}\n{\"type\":\"a\",\"payload\":" + deep + "}\n")
             == "2: payload nested too deep: more than 1000 levels");
  auto ok = std::string(1000, '[') + std::string(1000, ']');
  BOOST_TEST(error_of("{\"type\":\"a\",\"payload\":" + ok + "}\n") == "");
  BOOST_TEST(error_of(std::string("{\"type\":\"a\"}\0junk\n", 20)) == "1: not valid JSON: a NUL byte");
  BOOST_TEST(error_of("{\"type\":\"a\",\"payload\":{\"s\":\"\\u0000\"}}\n").find("1: payload holds \\u0000")
             == 0u);
  BOOST_TEST(error_of("{\"type\":\"a\\u0001\"}\n") == "1: \"type\" must not contain control characters");
}

BOOST_AUTO_TEST_CASE(payloads_over_the_limit_name_their_line) {
  std::istringstream in{"{\"type\":\"a\",\"payload\":[1]}\n{\"type\":\"a\",\"payload\":[1,2,3]}\n"};
  try {
    read_bulk_jobs(in, input_limits{5});
    BOOST_FAIL("accepted a payload over the limit");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string{e.what()}
               == "2: payload is 7 bytes, over the limit of 5 bytes (--max-payload-bytes)");
  }
}

BOOST_AUTO_TEST_SUITE_END()
