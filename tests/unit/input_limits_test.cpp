#include "runtime/input_limits.hpp"

#include <functional>

#include <boost/test/unit_test.hpp>

using namespace leasehold;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

std::string nested(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

} // namespace

BOOST_AUTO_TEST_SUITE(input_limits_checks)

BOOST_AUTO_TEST_CASE(depth_is_checked_without_recursion_on_any_text) {
  BOOST_TEST(error_of([] { check_json_text(nested(1000)); }) == "");
  BOOST_TEST(error_of([] { check_json_text(nested(1001)); })
             == "payload nested too deep: more than 1000 levels");
  BOOST_TEST(error_of([] { check_json_text("{\"p\":" + nested(1000) + "}", 1); }) == "");
  // A million levels, or only openers: refused, never a crash.
  BOOST_TEST(error_of([] { check_json_text(std::string(1000000, '{')); }) != "");
  // nlohmann would stop at a NUL and ignore the rest.
  BOOST_TEST(error_of([] { check_json_text(std::string("{}\0{\"x\":1}", 10)); })
             == "not valid JSON: a NUL byte");
  // Brackets inside strings do not count; escaped quotes do not end them.
  BOOST_TEST(error_of([] { check_json_text("\"" + std::string(5000, '[') + "\\\"]\""); }) == "");
}

BOOST_AUTO_TEST_CASE(payloads_are_bounded_in_size_and_nul_free) {
  input_limits small{10};
  BOOST_TEST(payload_from_text(" { \"a\" : 1 } ", small) == "{\"a\":1}");
  BOOST_TEST(error_of([&] { payload_from_text("{\"a\":\"123456789\"}", small); })
             == "payload is 17 bytes, over the limit of 10 bytes (--max-payload-bytes)");
  BOOST_TEST(error_of([] { payload_from_text("{\"a\":\"x\\u0000\"}", {}); }).find("\\u0000")
             != std::string::npos);
  BOOST_TEST(error_of([] { payload_from_text("{\"a\":\"x\\\\u0000\"}", {}); }) == "");
  BOOST_TEST(error_of([] { payload_from_text("{\"a\":\"\xff\"}", {}); })
             == "payload is not valid JSON");
  BOOST_TEST(error_of([] { payload_from_text(nested(100000), {}); }).find("deep")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(parsed_payloads_are_checked_before_they_are_serialized) {
  auto deep = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i)
    deep = nlohmann::json::array({deep});
  BOOST_TEST(error_of([&] { payload_from_json(deep, {}); }).find("deep") != std::string::npos);
  BOOST_TEST(error_of([] { payload_from_json({{"s", std::string("a\0b", 3)}}, {}); })
               .find("\\u0000") != std::string::npos);
  BOOST_TEST(error_of([] { payload_from_json({{"s", "\xff"}}, {}); }).find("UTF-8")
             != std::string::npos);
  BOOST_TEST(payload_from_json({{"ok", true}}, {}) == "{\"ok\":true}");
}

BOOST_AUTO_TEST_CASE(names_are_short_printable_utf8) {
  BOOST_TEST(error_of([] { check_name("type", "resize_image"); }) == "");
  BOOST_TEST(error_of([] { check_name("type", "größe"); }) == "");
  BOOST_TEST(error_of([] { check_name("type", ""); }) == "\"type\" must be a non-empty string");
  BOOST_TEST(error_of([] { check_name("type", std::string(201, 't')); })
             == "\"type\" must be at most 200 bytes");
  BOOST_TEST(error_of([] { check_name("queue", std::string("a\0b", 3)); })
             == "\"queue\" must not contain control characters");
  BOOST_TEST(error_of([] { check_name("queue", "a\xff"); }) == "\"queue\" must be valid UTF-8");
}

BOOST_AUTO_TEST_CASE(the_limit_itself_is_checked) {
  BOOST_TEST(payload_limits(1000).max_payload_bytes == 1000u);
  BOOST_TEST(error_of([] { payload_limits(0); }) != "");
  BOOST_TEST(error_of([] { payload_limits(-5); }) != "");
  BOOST_TEST(error_of([] { payload_limits(max_payload_limit + 1); }) != "");
}

BOOST_AUTO_TEST_CASE(outputs_are_kept_storable_and_bounded) {
  BOOST_TEST(output_text(nullptr, 100) == "");
  BOOST_TEST(output_text({{"rows", 3}}, 100) == "{\"rows\":3}");
  BOOST_TEST(output_text("plain text", 100) == "\"plain text\"");
  // NUL, even in a key, becomes U+FFFD; an escaped backslash before "u0000"
  // stays what it is.
  BOOST_TEST(output_text({{std::string("k\0", 2), std::string("a\0b", 3)}}, 100)
             == "{\"k\\ufffd\":\"a\\ufffdb\"}");
  BOOST_TEST(output_text("\\u0000", 100) == "\"\\\\u0000\"");
  BOOST_TEST(output_text("\xff", 100) == "\"\xef\xbf\xbd\"");
  auto deep = nlohmann::json(1);
  for (int i = 0; i < 1001; ++i)
    deep = nlohmann::json::array({deep});
  BOOST_TEST(nlohmann::json::parse(output_text(deep, 1 << 20)).contains("output_refused"));
  auto big = nlohmann::json::parse(output_text(std::string(5000, 'x'), 1000));
  BOOST_TEST(big["truncated"] == true);
  BOOST_TEST(big["bytes"] == 5002);
  BOOST_TEST(big.dump().size() <= 1000u);
  // Exactly at the bound is kept whole.
  BOOST_TEST(output_text(std::string(98, 'y'), 100).size() == 100u);
}

BOOST_AUTO_TEST_SUITE_END()
