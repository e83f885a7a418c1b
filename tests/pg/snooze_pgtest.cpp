// Snooze (migration 019): "not now, try again after D" puts the job back in
// the queue without using up an attempt, records the attempt as snoozed, is
// fenced like every write, and is bounded. C++ handlers and external
// programs (exit 75 with the delay on stdout). Real Postgres, real nodes.
#include <atomic>
#include <fstream>
#include <thread>

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "runtime/defaults.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(snooze, pg_fixture)

BOOST_AUTO_TEST_CASE(a_snooze_uses_no_attempt_and_waits_its_delay) {
  auto handlers = builtin_handlers();
  std::atomic<int> calls{0};
  handlers->add("rate_limited", [&](job_context&) {
    return ++calls <= 2 ? handler_result::snooze_for(300ms) : handler_result::success();
  });
  auto id = std::to_string(enqueue(db, "rate_limited", "{}", 1)); // one attempt only
  BOOST_REQUIRE(run_until_succeeded(fast_node_config(), handlers, 1, 15s));
  BOOST_TEST(value("SELECT string_agg(attempt || ':' || outcome, ',' ORDER BY attempt)"
                   " FROM leasehold.job_runs WHERE job_id = " + id)
             == "1:snoozed,2:snoozed,3:succeeded");
  // Each run started at least the delay after the snooze was written.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs AS a JOIN leasehold.job_runs AS b"
                   " ON b.job_id = a.job_id AND b.attempt = a.attempt + 1"
                   " WHERE a.outcome = 'snoozed' AND b.started_at >= a.finished_at"
                   " + interval '290 milliseconds' AND a.job_id = " + id) == 2);
}

BOOST_AUTO_TEST_CASE(a_job_that_keeps_snoozing_dies_at_the_limit) {
  auto handlers = builtin_handlers();
  handlers->add("never_ready", [](job_context&) { return handler_result::snooze_for(0ms); });
  auto id = std::to_string(enqueue(db, "never_ready"));
  // Two snoozes short of the limit, so the test does not wait for 100.
  db.execute("UPDATE leasehold.jobs SET snoozes = " + std::to_string(defaults::max_snoozes - 2)
             + " WHERE id = " + id);
  auto cfg = fast_node_config();
  node n{cfg, handlers};
  n.start();
  BOOST_TEST(wait_until([&] {
    return value("SELECT status FROM leasehold.jobs WHERE id = " + id) == "failed";
  }, 10s));
  n.stop();
  BOOST_TEST(value("SELECT last_error_code FROM leasehold.jobs WHERE id = " + id)
             == "snooze_limit");
  BOOST_TEST(value("SELECT string_agg(outcome, ',' ORDER BY attempt) FROM leasehold.job_runs"
                   " WHERE job_id = " + id) == "snoozed,snoozed,failed");
}

BOOST_AUTO_TEST_CASE(a_stale_owner_cannot_snooze) {
  register_worker(db, "w-old");
  register_worker(db, "w-new");
  auto id = enqueue(db, "noop");
  auto claimed = db.claim("w-old", "default", 1, {"noop"});
  BOOST_REQUIRE(claimed.size() == 1u);
  // The lease moves on (rescued and claimed by another worker).
  db.execute("UPDATE leasehold.jobs SET locked_by = 'w-new' WHERE id = " + std::to_string(id));
  job_outcome o;
  o.lease = {id, claimed[0].attempt};
  o.kind = job_outcome::snoozed;
  o.retry_delay_ms = 60000;
  auto r = db.complete("w-old", {o}, {});
  BOOST_TEST(!r[0].written);
  BOOST_TEST(value("SELECT status || ':' || snoozes FROM leasehold.jobs WHERE id = "
                   + std::to_string(id)) == "running:0");
}

BOOST_AUTO_TEST_CASE(an_external_program_snoozes_with_exit_75_and_a_delay) {
  auto script = "/tmp/leasehold-snooze-" + std::to_string(::getpid()) + ".sh";
  std::ofstream{script} << "#!/bin/sh\n"
                           "case \"$LEASEHOLD_ATTEMPT\" in\n"
                           "  1) echo 'busy upstream'; echo 400ms; exit 75 ;;\n"
                           "  2) echo 'soon'; exit 75 ;;\n" // not a delay: a failure
                           "  *) exit 0 ;;\n"
                           "esac\n";
  ::chmod(script.c_str(), 0755);
  auto handlers = builtin_handlers();
  handlers->add("ext", make_exec_handler(script, 10s));
  auto id = std::to_string(enqueue(db, "ext", "{}", 3));
  BOOST_REQUIRE(run_until_succeeded(fast_node_config(), handlers, 1, 20s));
  BOOST_TEST(value("SELECT string_agg(attempt || ':' || outcome, ',' ORDER BY attempt)"
                   " FROM leasehold.job_runs WHERE job_id = " + id)
             == "1:snoozed,2:failed,3:succeeded");
  BOOST_TEST(value("SELECT error FROM leasehold.job_runs WHERE attempt = 2 AND job_id = " + id)
                 .find("not a delay like 30s: soon") != std::string::npos);
  std::remove(script.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
