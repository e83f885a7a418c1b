// The prefetch buffer: claimed jobs wait per queue, a free slot takes the
// best one (priority first, then claim order), the queue's concurrency is
// never exceeded, and the buffer is sized to the start rate.
#include "actors/prefetch_buffer.hpp"

#include <boost/test/unit_test.hpp>

using namespace leasehold;
using namespace std::chrono_literals;

namespace {

claimed_job job(int64_t id, int32_t priority = 0, const std::string& queue = "default") {
  claimed_job j;
  j.id = id;
  j.attempt = 1;
  j.queue = queue;
  j.priority = priority;
  return j;
}

prefetch_settings fixed(int32_t limit) {
  return {limit, 0ms, 1s};
}

} // namespace

BOOST_AUTO_TEST_SUITE(prefetch)

BOOST_AUTO_TEST_CASE(a_free_slot_takes_the_lowest_priority_value_then_claim_order) {
  prefetch_buffer b{{{"default", 1}}, fixed(10)};
  auto t = prefetch_buffer::clock::now();
  b.add(job(1, 5), t);
  b.add(job(2, 5), t);
  b.add(job(3, -1), t); // claimed later but sorts first
  BOOST_TEST(b.start_next("default", t)->id == 3);
  BOOST_TEST(!b.start_next("default", t)); // the one slot is taken
  b.attempt_ended("default");
  BOOST_TEST(b.start_next("default", t)->id == 1);
  b.attempt_ended("default");
  BOOST_TEST(b.start_next("default", t)->id == 2);
  BOOST_TEST(b.size() == 0u);
}

BOOST_AUTO_TEST_CASE(concurrency_is_per_queue_and_never_exceeded) {
  prefetch_buffer b{{{"a", 2}, {"b", 1}}, fixed(10)};
  auto t = prefetch_buffer::clock::now();
  for (int64_t id = 1; id <= 4; ++id)
    b.add(job(id, 0, "a"), t);
  b.add(job(9, 0, "b"), t);
  BOOST_TEST(b.start_next("a", t).has_value());
  BOOST_TEST(b.start_next("a", t).has_value());
  BOOST_TEST(!b.start_next("a", t));
  BOOST_TEST(b.running("a") == 2);
  BOOST_TEST(b.start_next("b", t)->id == 9);
  BOOST_TEST(b.size("a") == 2u);
}

BOOST_AUTO_TEST_CASE(a_started_job_carries_how_long_it_waited) {
  prefetch_buffer b{{{"default", 1}}, fixed(10)};
  auto t = prefetch_buffer::clock::now();
  b.add(job(1), t);
  BOOST_TEST(b.start_next("default", t + 250ms)->buffered_ms == 250);
}

BOOST_AUTO_TEST_CASE(buffered_jobs_are_leases_until_they_start_or_are_dropped) {
  prefetch_buffer b{{{"default", 1}}, fixed(10)};
  auto t = prefetch_buffer::clock::now();
  b.add(job(1), t);
  b.add(job(2), t);
  b.add(job(3), t);
  b.start_next("default", t);
  BOOST_TEST(b.leases().size() == 2u);
  BOOST_TEST(b.drop({2, 1}, 0).value() == "default");
  BOOST_TEST(!b.drop({2, 1}, 0));
  BOOST_TEST(!b.drop({3, 2}, 0)); // another attempt of the job: not buffered here
  BOOST_TEST(b.leases().size() == 1u);
  // Given back and claimed again (same id and attempt) after the renewal
  // took its lease list: that renewal's verdict is not about this claim.
  auto again = job(7);
  again.claim_seq = 5;
  b.add(again, t);
  BOOST_TEST(!b.drop({7, 1}, 4));
  BOOST_TEST(b.drop({7, 1}, 5).has_value());
  BOOST_TEST(b.take_all().size() == 1u);
  BOOST_TEST(b.size() == 0u);
}

BOOST_AUTO_TEST_CASE(jobs_held_past_the_bound_are_taken_out_others_stay) {
  prefetch_buffer b{{{"default", 1}}, {10, 0ms, 300ms}};
  auto t = prefetch_buffer::clock::now();
  b.add(job(1, 3), t);
  b.add(job(2, 1), t + 200ms);
  b.add(job(3, 3), t + 200ms);
  auto overdue = b.take_overdue(t + 400ms);
  BOOST_REQUIRE(overdue.size() == 1u);
  BOOST_TEST(overdue[0].id == 1);
  BOOST_TEST(b.size() == 2u);
  BOOST_TEST(b.take_overdue(t + 600ms).size() == 2u);
  BOOST_TEST(b.size() == 0u);
}

BOOST_AUTO_TEST_CASE(the_target_follows_the_rate_slots_free_up_to_the_limit) {
  prefetch_buffer b{{{"default", 24}}, {500, 100ms, 1s}};
  BOOST_TEST(b.target("default") == 0); // nothing ahead until attempts end
  auto t = prefetch_buffer::clock::now();
  b.retarget(t); // start of the first window: nothing ended, nothing changes
  BOOST_TEST(b.target("default") == 0);
  // 2,400 ends per second (10ms handlers on 24 slots): 240 in 100ms.
  for (int i = 0; i < 240; ++i) {
    b.add(job(i), t);
    b.start_next("default", t);
    b.attempt_ended("default");
  }
  auto change = b.retarget(t + 100ms);
  BOOST_TEST(b.target("default") == 240);
  BOOST_TEST(change.at("default") == 240);
  // Far faster handlers: capped at the limit.
  for (int i = 0; i < 10000; ++i) {
    b.add(job(i), t);
    b.start_next("default", t);
    b.attempt_ended("default");
  }
  b.retarget(t + 200ms);
  BOOST_TEST(b.target("default") == 500);
  // Nothing starts any more (long handlers): the target decays to nothing.
  for (int i = 3; i < 30; ++i)
    b.retarget(t + i * 100ms);
  BOOST_TEST(b.target("default") == 0);
}

BOOST_AUTO_TEST_CASE(long_handlers_that_fill_every_slot_get_nothing_ahead) {
  prefetch_buffer b{{{"default", 24}}, {500, 100ms, 1s}};
  auto t = prefetch_buffer::clock::now();
  b.retarget(t);
  for (int i = 0; i < 24; ++i) {
    b.add(job(i), t);
    b.start_next("default", t);
  }
  b.retarget(t + 100ms); // 24 started, none ended
  BOOST_TEST(b.target("default") == 0);
}

BOOST_AUTO_TEST_CASE(without_a_horizon_the_buffer_is_fixed) {
  prefetch_buffer b{{{"default", 4}}, fixed(50)};
  BOOST_TEST(b.target("default") == 50);
  prefetch_buffer none{{{"default", 4}}, {0, 100ms, 1s}};
  BOOST_TEST(none.target("default") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
