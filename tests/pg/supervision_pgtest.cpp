// The supervisor restarts crashed core actors with backoff and counts the
// failure by reason; work goes on afterwards.
#include <atomic>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(supervision, pg_fixture)

BOOST_AUTO_TEST_CASE(a_crashed_core_actor_is_restarted_and_counted) {
  auto handlers = builtin_handlers();
  node n{fast_node_config(), handlers};
  n.start();
  // persistence, lease, heartbeat, reaper, completion writer
  for (size_t role : {0u, 1u, 2u, 3u, 4u}) {
    BOOST_TEST_CONTEXT("core actor " << role) {
      auto before = n.stats();
      n.crash_core_actor(role);
      BOOST_REQUIRE(wait_until([&] { return n.stats().restarts == before.restarts + 1; }, 5s));
      BOOST_TEST(n.stats().supervised_failures["runtime_error"]
                 == before.supervised_failures["runtime_error"] + 1);
      // Still claiming and completing after the restart.
      auto id = std::to_string(enqueue(db, "noop"));
      BOOST_TEST(wait_until(
        [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "succeeded"; },
        5s));
      // Written by the new writer on the first attempt: no executor kept the
      // crashed writer's handle.
      BOOST_TEST(value("SELECT attempts FROM leasehold.all_jobs WHERE id = " + id) == "1");
      BOOST_TEST(n.stats().supervised_failures["outcome_unwritten"] == 0);
    }
  }
  n.stop();
}

// A handler still running when the completion writer crashes hands its
// outcome to the crashed writer. That attempt must end as outcome_unwritten,
// not wait for an answer forever: the job's lease then expires and the job
// runs again.
BOOST_AUTO_TEST_CASE(an_outcome_handed_to_a_crashed_writer_ends_its_attempt) {
  std::atomic<int> started{0};
  auto handlers = builtin_handlers();
  handlers->add("slow", [&started](job_context& ctx) {
    ++started;
    ctx.sleep_for(600ms);
    return handler_result::success();
  });
  auto id = std::to_string(enqueue(db, "slow"));
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return started.load() == 1; }, 5s));
  n.crash_core_actor(4); // the completion writer
  BOOST_TEST(wait_until(
    [&] { return n.stats().supervised_failures["outcome_unwritten"] == 1; }, 5s));
  BOOST_TEST(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "succeeded"; },
    10s));
  n.stop();
  BOOST_TEST(value("SELECT attempts FROM leasehold.all_jobs WHERE id = " + id) == "2");
  BOOST_TEST(started.load() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
