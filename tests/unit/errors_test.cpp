#include "messages/errors.hpp"

#include <caf/sec.hpp>

#include <boost/test/unit_test.hpp>

#include "persistence/store.hpp"
#include "runtime/identity.hpp"

using namespace leasehold;

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(every_exit_code_has_a_stable_label) {
  BOOST_TEST(reason_label(make_error(exit_code::ownership_lost))
             == "ownership_lost");
  BOOST_TEST(reason_label(make_error(exit_code::stopping_timeout))
             == "stopping_timeout");
  BOOST_TEST(reason_label(make_error(exit_code::outcome_unwritten))
             == "outcome_unwritten");
  BOOST_TEST(reason_label(caf::make_error(caf::sec::runtime_error))
             == "runtime_error");
}

BOOST_AUTO_TEST_CASE(passwords_are_redacted_from_database_urls) {
  BOOST_TEST(redact_database_url("postgresql://app:s3cret@db:5432/x")
             == "postgresql://app:***@db:5432/x");
  BOOST_TEST(redact_database_url("host=db password=s3cret user=app")
             == "host=db password=*** user=app");
  BOOST_TEST(redact_database_url("postgresql://app@db/x")
             == "postgresql://app@db/x");
}

BOOST_AUTO_TEST_CASE(worker_ids_are_base_plus_uuid_v4) {
  auto a = make_worker_id("node");
  auto b = make_worker_id("node");
  BOOST_TEST(a != b);
  BOOST_REQUIRE_EQUAL(a.size(), 5u + 36u);
  BOOST_TEST(a.substr(0, 5) == "node-");
  BOOST_TEST(a[5 + 14] == '4'); // version nibble
  BOOST_TEST(std::string{"89ab"}.find(a[5 + 19]) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
