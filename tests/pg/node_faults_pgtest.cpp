// Faults inside one node's conversation with Postgres, with an in-process
// node: a claim whose reply came too late, and a revocation that lands
// while a claim is stuck behind another session's table lock.
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// Holds a SHARE lock on the jobs table for `held` on a session of its own:
// claims (UPDATE) wait for it, readers do not.
std::thread lock_jobs_table(std::chrono::milliseconds held) {
  auto seconds = std::to_string(held.count() / 1000.0);
  return std::thread{[seconds] {
    store other{test_dsn()};
    other.execute("BEGIN; LOCK TABLE leasehold.jobs IN SHARE MODE; SELECT pg_sleep("
                  + seconds + "); COMMIT");
  }};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(node_faults, pg_fixture)

// The lease actor gives up on a claim after 300ms, but the statement waits
// for the lock and commits at 1.2s: its jobs are running under the node's
// name with no attempt. The node's renewals give them back after its TTL
// and they run; none stays running unowned.
BOOST_AUTO_TEST_CASE(a_claim_whose_reply_timed_out_leaves_no_job_running_unowned) {
  for (int i = 0; i < 4; ++i)
    enqueue(db, "sleep", R"({"ms":50})");
  auto cfg = fast_node_config();
  cfg.claim_timeout = 300ms;
  cfg.concurrency = 4;
  auto locker = lock_jobs_table(1200ms);
  std::this_thread::sleep_for(100ms); // the lock is taken before the node claims
  node n{cfg, builtin_handlers()};
  n.start();
  locker.join();
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 4; }, 8s));
  // The late claim did commit, and its jobs went back without a handler.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'expired'"
                   " AND error LIKE 'lease abandoned by its own node%'") >= 1);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'running'") == 0);
  BOOST_TEST(n.stats().supervised_failures.empty());
  n.stop();
}

// Revoked while its claim waits behind a lock: the claim, when it runs,
// takes nothing under the revoked id, and the node registers again and
// runs the jobs under its fresh id.
BOOST_AUTO_TEST_CASE(a_revocation_during_a_stuck_claim_claims_nothing_under_the_old_id) {
  auto cfg = fast_node_config();
  cfg.concurrency = 4;
  cfg.heartbeat_interval = 300ms;
  node n{cfg, builtin_handlers()};
  n.start();
  auto old_id = n.stats().worker_id;
  BOOST_REQUIRE(wait_until([&] {
    return value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '" + old_id
                 + "'") == "RUNNING";
  }, 3s));
  // Jobs go in inside the locking transaction; the node's polled claim
  // waits for the lock (taken when the UPDATE starts, rows or not).
  std::thread locker{[] {
    store other{test_dsn()};
    other.execute("BEGIN; LOCK TABLE leasehold.jobs IN SHARE MODE;"
                  " INSERT INTO leasehold.jobs (type, payload)"
                  "   SELECT 'sleep', '{\"ms\":50}' FROM generate_series(1, 4);"
                  " SELECT pg_sleep(1.5); COMMIT");
  }};
  std::this_thread::sleep_for(300ms);
  db.execute("UPDATE leasehold.worker_instances SET status = 'STOPPED'"
             " WHERE worker_id = '" + old_id + "'");
  auto revoked_at = std::chrono::steady_clock::now();
  locker.join();
  BOOST_REQUIRE(wait_until([&] { return n.stats().reregistrations == 1; }, 5s));
  // The lock (1.2s left) plus one heartbeat and its answer.
  BOOST_TEST((std::chrono::steady_clock::now() - revoked_at < 2500ms));
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 4; }, 5s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE worker_id = '" + old_id
                   + "'") == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE attempts <> 1") == 0);
  n.stop();
}

BOOST_AUTO_TEST_SUITE_END()
