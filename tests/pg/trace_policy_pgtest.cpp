// Trace-id policy: jobs created after the cutoff must succeed with a
// trace_id; log mode records and succeeds, strict mode fails the attempt.
#include <atomic>

#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

struct untraced_run {
  std::string status;
  std::string error_code;
  int64_t violations = 0;
  int64_t counted = 0;
};

// Runs one job whose trace_id is removed (in SQL) while it runs.
untraced_run run_untraced(pg_fixture& pg, bool strict, const std::string& cutoff) {
  std::atomic<bool> started{false};
  std::atomic<bool> go{false};
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("traced", [&](job_context&) {
    started = true;
    while (!go)
      std::this_thread::sleep_for(5ms);
    return handler_result::success();
  });
  auto id = std::to_string(enqueue(pg.db, "traced"));
  auto cfg = fast_node_config();
  cfg.trace_strict = strict;
  cfg.trace_cutoff = cutoff;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return started.load(); }, 5s));
  pg.db.execute("UPDATE leasehold.jobs SET trace_id = NULL WHERE id = " + id);
  go = true;
  BOOST_REQUIRE(wait_until(
    [&] { return pg.value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) != "running"; },
    5s));
  untraced_run r;
  r.counted = n.stats().policy_violations;
  n.stop();
  r.status = pg.value("SELECT status FROM leasehold.all_jobs WHERE id = " + id);
  r.error_code = pg.value("SELECT coalesce(last_error_code, '') FROM leasehold.all_jobs WHERE id = " + id);
  r.violations = pg.count("SELECT count(*) FROM leasehold.policy_violations WHERE job_id = " + id);
  return r;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(trace_policy, pg_fixture)

BOOST_AUTO_TEST_CASE(log_mode_records_the_violation_and_still_succeeds) {
  auto r = run_untraced(*this, false, "2000-01-01T00:00:00Z");
  BOOST_TEST(r.status == "succeeded");
  BOOST_TEST(r.violations == 1);
  BOOST_TEST(r.counted == 1);
}

BOOST_AUTO_TEST_CASE(strict_mode_fails_the_attempt) {
  auto r = run_untraced(*this, true, "2000-01-01T00:00:00Z");
  BOOST_TEST(r.status == "failed");
  BOOST_TEST(r.error_code == "trace_policy");
  BOOST_TEST(r.violations == 1);
  BOOST_TEST(r.counted == 1);
}

BOOST_AUTO_TEST_CASE(jobs_created_before_the_cutoff_are_exempt) {
  auto r = run_untraced(*this, true, "2999-01-01T00:00:00Z");
  BOOST_TEST(r.status == "succeeded");
  BOOST_TEST(r.violations == 0);
  BOOST_TEST(r.counted == 0);
}

BOOST_AUTO_TEST_SUITE_END()
