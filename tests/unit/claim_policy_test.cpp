// The lease actor's claim policy: claim at once when idle or when a quarter
// of the slots are free; otherwise wait for more, but never past the
// coalescing window.
#include "actors/lease_actor.hpp"

#include <boost/test/unit_test.hpp>

using namespace leasehold;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(claim_policy)

BOOST_AUTO_TEST_CASE(an_idle_queue_claims_at_once) {
  BOOST_TEST(!claim_should_wait(1000, 1000, 0ms, 2ms));
  BOOST_TEST(!claim_should_wait(1, 1, 0ms, 2ms));
}

BOOST_AUTO_TEST_CASE(a_quarter_free_claims_at_once) {
  BOOST_TEST(!claim_should_wait(1000, 250, 0ms, 2ms));
  BOOST_TEST(!claim_should_wait(3, 1, 0ms, 2ms)); // small queues: one slot is enough
}

BOOST_AUTO_TEST_CASE(a_few_freed_slots_wait_for_company_but_not_long) {
  BOOST_TEST(claim_should_wait(1000, 1, 0ms, 2ms));
  BOOST_TEST(claim_should_wait(1000, 249, 1ms, 2ms));
  BOOST_TEST(!claim_should_wait(1000, 1, 2ms, 2ms));
  BOOST_TEST(!claim_should_wait(1000, 1, 50ms, 2ms));
}

BOOST_AUTO_TEST_CASE(no_free_slot_never_claims) {
  BOOST_TEST(claim_should_wait(10, 0, 1s, 2ms));
}

BOOST_AUTO_TEST_SUITE_END()
