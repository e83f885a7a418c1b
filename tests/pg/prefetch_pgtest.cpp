// Jobs claimed ahead of the handlers (--prefetch) are real leases: renewed
// while they wait, started in priority order when a slot frees, recorded
// from their handler's start, given back unstarted on a graceful stop or
// after waiting too long (no attempt consumed, no run row), and rescued
// like any lease when their node dies. In-process nodes, real Postgres.
#include <atomic>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "persistence/verify.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// One slot and a fixed buffer of `limit` jobs claimed ahead.
node_config one_slot_prefetching(int32_t limit) {
  auto cfg = fast_node_config();
  cfg.concurrency = 1;
  cfg.prefetch = limit;
  cfg.prefetch_horizon = 0ms; // fixed: always `limit` ahead
  cfg.prefetch_max_hold = 30s;
  return cfg;
}

struct prefetch_fixture : pg_fixture {
  std::string ids_of(const std::string& where) {
    return value("SELECT string_agg(id::text, ',' ORDER BY id) FROM leasehold.all_jobs"
                 " WHERE " + where);
  }

  int64_t violations() {
    verify_options opts;
    opts.grace_ms = 0;
    int64_t n = 0;
    for (const auto& r : db.verify(opts)) {
      n += r.violations;
      for (const auto& row : r.rows)
        BOOST_TEST_MESSAGE(r.name << ": " << row);
    }
    return n;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(prefetch, prefetch_fixture)

BOOST_AUTO_TEST_CASE(a_graceful_stop_gives_back_unstarted_jobs_without_consuming_an_attempt) {
  for (int i = 0; i < 6; ++i)
    enqueue(db, "sleep", R"({"ms":800})");
  node n{one_slot_prefetching(5), builtin_handlers()};
  n.start();
  // One runs, five wait in the buffer: all six are this node's leases.
  BOOST_REQUIRE(wait_until([&] { return n.stats().prefetched == 5; }, 3s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 6);
  BOOST_TEST(n.stats().supervised_failures.empty());
  n.stop();
  // The running one finished; the five never started and are as they were
  // before their claim: queued, attempt 0, no owner, no trace id, no run row.
  BOOST_TEST(succeeded() == 1);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'queued'"
                   " AND attempts = 0 AND locked_by IS NULL AND locked_at IS NULL"
                   " AND trace_id IS NULL AND heartbeat_at IS NULL") == 5);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs") == 1);
  BOOST_TEST(violations() == 0);
}

BOOST_AUTO_TEST_CASE(a_given_back_retry_keeps_its_previous_trace_id) {
  // Attempt 1 fails; attempt 2 is claimed ahead, then given back.
  auto id = std::to_string(enqueue(db, "fail", "{}", 5));
  for (int i = 0; i < 3; ++i)
    enqueue(db, "sleep", R"({"ms":600})");
  auto cfg = one_slot_prefetching(5);
  cfg.retry_base = 1ms;
  cfg.retry_cap = 1ms;
  node n{cfg, builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] {
    return value("SELECT attempts FROM leasehold.jobs WHERE id = " + id) == "2"
           && n.stats().prefetched > 0;
  }, 3s));
  auto first_trace = value("SELECT trace_id FROM leasehold.job_runs WHERE job_id = " + id
                           + " AND attempt = 1");
  n.stop();
  auto status = value("SELECT status || ' ' || attempts || ' ' || coalesce(trace_id, 'null')"
                      " FROM leasehold.jobs WHERE id = " + id);
  // Attempt 2 waits behind two 600 ms sleeps in the buffer: the stop gives
  // it back, as attempt 1 again, with attempt 1's trace_id.
  BOOST_TEST(status == "queued 1 " + first_trace);
  BOOST_TEST(violations() == 0);
}

BOOST_AUTO_TEST_CASE(buffered_jobs_are_renewed_while_they_wait_past_the_ttl) {
  // TTL 1s; each job waits ~0.6s per job ahead of it in the buffer, the last
  // one about 2.4s: unrenewed, reapers would take it back and count an
  // attempt.
  for (int i = 0; i < 5; ++i)
    enqueue(db, "sleep", R"({"ms":600})");
  node a{one_slot_prefetching(10), builtin_handlers()};
  a.start();
  BOOST_REQUIRE(wait_until([&] { return a.stats().prefetched == 4; }, 3s));
  // Another node's reaper watches all along.
  auto cfg_b = fast_node_config();
  node b{cfg_b, builtin_handlers()};
  b.start();
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 5; }, 10s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome <> 'succeeded'") == 0);
  BOOST_TEST(count("SELECT max(attempt) FROM leasehold.job_runs") == 1);
  b.stop();
  a.stop();
}

BOOST_AUTO_TEST_CASE(a_run_row_starts_when_its_handler_did_not_at_the_claim) {
  for (int i = 0; i < 4; ++i)
    enqueue(db, "sleep", R"({"ms":300})");
  node n{one_slot_prefetching(5), builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 4; }, 5s));
  n.stop();
  // All four were claimed at once; each started when the one before ended.
  // Measured on the database's clock: no job starts before its predecessor
  // finished (a little slack for the completion's own commit).
  auto overlaps = count(
    "SELECT count(*) FROM (SELECT started_at, lag(finished_at) OVER (ORDER BY started_at)"
    " AS prev_end FROM leasehold.job_runs) AS r"
    " WHERE started_at < prev_end - interval '50 milliseconds'");
  BOOST_TEST(overlaps == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs"
                   " WHERE finished_at - started_at BETWEEN interval '250 ms'"
                   " AND interval '600 ms'") == 4);
}

BOOST_AUTO_TEST_CASE(a_job_that_sorts_first_jumps_the_buffer) {
  for (int i = 0; i < 6; ++i)
    db.enqueue({"sleep", R"({"ms":500})", "default", 10});
  node n{one_slot_prefetching(5), builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return n.stats().prefetched == 5; }, 3s));
  auto urgent = std::to_string(db.enqueue({"sleep", R"({"ms":10})", "default", -5}));
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 7; }, 8s));
  n.stop();
  // Five jobs were buffered before it; it started before at least three of
  // them: it is claimed once a held job's outcome is written (the buffer
  // was full) and the claim cursor, past it, has been reset, then starts
  // at the next free slot, ahead of every buffered job.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs AS r, leasehold.job_runs AS u"
                   " WHERE u.job_id = " + urgent + " AND r.job_id <> u.job_id"
                   " AND r.started_at > u.started_at") >= 3);
}

BOOST_AUTO_TEST_CASE(a_job_waiting_past_the_bound_is_given_back_and_runs_on_attempt_one) {
  for (int i = 0; i < 4; ++i)
    enqueue(db, "sleep", R"({"ms":700})");
  auto cfg = one_slot_prefetching(3);
  cfg.prefetch_max_hold = 200ms;
  node n{cfg, builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return n.stats().prefetch_given_back >= 3; }, 3s));
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 4; }, 8s));
  n.stop();
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs") == 4);
  BOOST_TEST(count("SELECT max(attempt) FROM leasehold.job_runs") == 1);
  BOOST_TEST(violations() == 0);
}

BOOST_AUTO_TEST_CASE(buffered_jobs_of_a_dead_node_are_rescued_after_its_ttl) {
  for (int i = 0; i < 4; ++i)
    enqueue(db, "sleep", R"({"ms":2000})");
  auto a = std::make_unique<node>(one_slot_prefetching(5), builtin_handlers());
  a->start();
  BOOST_REQUIRE(wait_until([&] { return a->stats().prefetched == 3; }, 3s));
  auto dead = a->worker_id();
  a->kill(); // no give-back, no release: a crash
  a.reset();
  auto cfg = fast_node_config();
  cfg.concurrency = 4;
  node b{cfg, builtin_handlers()};
  b.start();
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 4; }, 10s));
  b.stop();
  // Each attempt of the dead node expired and is recorded under it.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'expired'"
                   " AND worker_id = '" + dead + "' AND attempt = 1") == 4);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'"
                   " AND attempt = 2") == 4);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(prefetch_faults, prefetch_fixture)

// Found by cluster.faults: a give-back that failed (Postgres down) dropped
// the jobs from the buffer, so nobody renewed them and reapers took them
// back as expired attempts of a healthy node.
BOOST_AUTO_TEST_CASE(a_give_back_that_fails_keeps_the_jobs_as_leases) {
  for (int i = 0; i < 4; ++i)
    enqueue(db, "sleep", R"({"ms":4000})");
  auto cfg = one_slot_prefetching(3);
  cfg.prefetch_max_hold = 300ms;
  node n{cfg, builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return n.stats().prefetched == 3; }, 3s));
  pg_local("stop");
  std::this_thread::sleep_for(2s); // every give-back fails meanwhile
  pg_local("start");
  // A fresh connection for the checks: the fixture's died with the server.
  auto fresh = [](const std::string& sql) -> int64_t {
    try {
      return std::stoll(store{test_dsn()}.query_value(sql).value_or("0"));
    } catch (const std::exception&) {
      return int64_t{-1};
    }
  };
  BOOST_REQUIRE(wait_until([&] {
    return fresh("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 4;
  }, 25s));
  n.stop();
  BOOST_TEST(fresh("SELECT count(*) FROM leasehold.job_runs WHERE outcome <> 'succeeded'") == 0);
  BOOST_TEST(fresh("SELECT max(attempt) FROM leasehold.job_runs") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
