// A handler that ignores cancellation cannot hold its slot forever: the
// attempt ends with a timeout (per type, else the node's default), retried
// like any failure, and its slot stays taken until the handler's thread
// returns. In-process nodes, real Postgres.
#include <atomic>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(attempt_timeout, pg_fixture)

BOOST_AUTO_TEST_CASE(a_handler_ignoring_cancellation_times_out_and_keeps_its_slot_until_it_returns) {
  std::atomic<bool> stubborn_returned{false};
  std::atomic<int> probe_saw_return{-1};
  auto handlers = builtin_handlers();
  // The first attempt sleeps 2s and never looks at its cancel flag.
  handlers->add("stubborn", [&](job_context& ctx) {
    if (ctx.attempt() == 1) {
      std::this_thread::sleep_for(2s);
      stubborn_returned = true;
    }
    return handler_result::success();
  }, handler_mode::blocking, 300ms);
  // Runs on its executor's thread, so only a free slot holds it back.
  handlers->add("probe", [&](job_context&) {
    probe_saw_return = stubborn_returned ? 1 : 0;
    return handler_result::success();
  }, handler_mode::non_blocking);
  auto stubborn = std::to_string(enqueue(db, "stubborn", "{}", 2));
  auto cfg = fast_node_config();
  cfg.concurrency = 1;
  node n{cfg, handlers};
  n.start();
  enqueue(db, "probe");
  auto where = " WHERE id = " + stubborn;
  // Attempt 1 ends at 300ms, written under its lease, and is retried.
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT last_error_code FROM leasehold.all_jobs" + where) == "timeout"; },
    1500ms));
  BOOST_TEST(value("SELECT outcome || ': ' || error FROM leasehold.job_runs WHERE job_id = "
                   + stubborn + " AND attempt = 1") == "failed: attempt timed out after 300ms");
  // Its handler still sleeps: the one slot is not free, the probe waits.
  std::this_thread::sleep_for(500ms);
  BOOST_TEST(!stubborn_returned);
  BOOST_TEST(probe_saw_return == -1);
  // Both wait: the retry queued, the probe queued or claimed ahead.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs"
                   " WHERE status IN ('queued', 'running')") == 2);
  // Once it returns, the slot serves the probe and the retry.
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 2; }, 5s));
  BOOST_TEST(probe_saw_return == 1);
  BOOST_TEST(value("SELECT attempts FROM leasehold.all_jobs" + where) == "2");
  auto stats = n.stats();
  BOOST_TEST(stats.outcomes["timeout"] == 1);
  BOOST_TEST(stats.supervised_failures.empty());
  n.stop();
}

BOOST_AUTO_TEST_CASE(the_node_default_applies_unless_the_type_has_its_own_timeout) {
  auto handlers = builtin_handlers(); // sleep honours cancellation
  handlers->add("patient", [](job_context& ctx) {
    return ctx.sleep_for(600ms) ? handler_result::success()
                                : handler_result::failure("cancelled");
  }, handler_mode::blocking, 5s);
  auto slow = std::to_string(enqueue(db, "sleep", R"({"ms":5000})", 1));
  auto patient = std::to_string(enqueue(db, "patient"));
  auto cfg = fast_node_config();
  cfg.attempt_timeout = 250ms;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + slow) == "failed"; },
    3s));
  BOOST_TEST(value("SELECT last_error FROM leasehold.all_jobs WHERE id = " + slow)
             == "attempt timed out after 250ms");
  BOOST_TEST(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + patient)
                   == "succeeded"; }, 3s));
  // The sleep handler returned at once when told: its executor goes on.
  enqueue(db, "sleep", R"({"ms":10})");
  BOOST_TEST(wait_until([&] { return succeeded() == 2; }, 3s));
  BOOST_TEST(n.stats().supervised_failures.empty());
  n.stop();
}

// The slot of a timed-out attempt whose handler still runs stays taken
// across a restart of the lease actor, and a graceful stop waits for the
// handler instead of hanging or cutting it off.
BOOST_AUTO_TEST_CASE(a_draining_slot_survives_a_core_restart_and_a_stop_waits_for_it) {
  std::atomic<bool> stubborn_returned{false};
  std::atomic<int> probe_saw_return{-1};
  auto handlers = builtin_handlers();
  handlers->add("stubborn", [&](job_context&) {
    std::this_thread::sleep_for(1500ms);
    stubborn_returned = true;
    return handler_result::success();
  }, handler_mode::blocking, 200ms);
  handlers->add("probe", [&](job_context&) {
    probe_saw_return = stubborn_returned ? 1 : 0;
    return handler_result::success();
  }, handler_mode::non_blocking);
  auto stubborn = std::to_string(enqueue(db, "stubborn", "{}", 1));
  auto cfg = fast_node_config();
  cfg.concurrency = 1;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + stubborn)
                   == "failed"; }, 1500ms));
  n.crash_core_actor(1); // the lease actor, which counts free slots
  enqueue(db, "probe");
  BOOST_REQUIRE(wait_until([&] { return n.stats().restarts == 1; }, 2s));
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(probe_saw_return == -1); // not claimed into the draining slot
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 1; }, 3s));
  BOOST_TEST(probe_saw_return == 1);

  enqueue(db, "stubborn", "{}", 1);
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'failed'")
                   == 2; }, 1500ms));
  stubborn_returned = false;
  auto stop_started = std::chrono::steady_clock::now();
  n.stop();
  BOOST_TEST(stubborn_returned); // the stop waited for the handler
  BOOST_TEST((std::chrono::steady_clock::now() - stop_started < 3s));
  BOOST_TEST(value("SELECT status FROM leasehold.worker_instances") == "STOPPED");
}

// An attempt that ends any other way while its handler ignores the cancel
// flag (here: its lease is lost) also keeps the slot until the handler's
// thread returns: the node never runs more handlers than its concurrency.
BOOST_AUTO_TEST_CASE(a_lost_attempt_keeps_its_slot_until_its_handler_returns) {
  std::atomic<bool> stubborn_returned{false};
  std::atomic<int> probe_saw_return{-1};
  auto handlers = builtin_handlers();
  handlers->add("stubborn", [&](job_context&) {
    std::this_thread::sleep_for(1500ms);
    stubborn_returned = true;
    return handler_result::success();
  }, handler_mode::blocking);
  handlers->add("probe", [&](job_context&) {
    probe_saw_return = stubborn_returned ? 1 : 0;
    return handler_result::success();
  }, handler_mode::non_blocking);
  auto stubborn = std::to_string(enqueue(db, "stubborn", "{}", 1));
  auto cfg = fast_node_config();
  cfg.concurrency = 1;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + stubborn)
                   == "running"; }, 2s));
  db.execute("UPDATE leasehold.jobs SET locked_by = 'thief' WHERE id = " + stubborn);
  BOOST_REQUIRE(wait_until(
    [&] { return n.stats().supervised_failures["ownership_lost"] == 1; }, 2s));
  enqueue(db, "probe");
  std::this_thread::sleep_for(500ms);
  BOOST_TEST(!stubborn_returned);
  BOOST_TEST(probe_saw_return == -1); // not claimed into the held slot
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE type = 'probe'"
                   " AND status = 'queued'") == 1);
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 1; }, 4s));
  BOOST_TEST(probe_saw_return == 1);
  n.stop();
}

BOOST_AUTO_TEST_SUITE_END()
