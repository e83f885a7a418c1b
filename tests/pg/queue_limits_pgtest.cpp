// A queue's cluster-wide concurrency limit (migration 022), with real node
// processes: however claims on six nodes interleave, no more than the limit
// of the queue's handlers run at once (checked from every node's execution
// ledger), the limit is used to the full, and places free up at once.
// Real Postgres, real nodes.
#include <algorithm>
#include <csignal>
#include <fstream>
#include <thread>

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/ledgers.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

struct limits_fixture : pg_fixture {
  ~limits_fixture() { db.execute("TRUNCATE leasehold.queues"); }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(queue_limits, limits_fixture)

BOOST_AUTO_TEST_CASE(six_nodes_never_run_more_than_the_limit_and_use_all_of_it) {
  constexpr int jobs = 2000, sleep_ms = 15, limit = 3;
  auto r = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "limit", "default",
                "--concurrency", std::to_string(limit)});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  enqueue_sleeps(db, jobs, sleep_ms);
  // Held jobs, sampled in the database while they run: never over the limit.
  int64_t most_held = 0;
  const auto ran = run_nodes("limit", 6, {"--concurrency", "4"}, [&] {
    most_held = std::max(most_held, count("SELECT count(*) FROM leasehold.jobs"
                                          " WHERE status = 'running'"));
    return count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == jobs;
  }, 90s);
  BOOST_TEST(ran.done);
  const auto& events = ran.events;
  const auto seconds = ran.seconds;
  auto starts = std::count_if(events.begin(), events.end(),
                              [](const ledger_event& e) { return e.delta > 0; });
  auto overlap = max_overlap(events);
  BOOST_TEST_MESSAGE(jobs << " jobs in " << seconds << " s; at most " << overlap
                          << " handlers at once, " << most_held << " jobs held");
  BOOST_TEST(starts == jobs);
  BOOST_TEST(overlap <= limit);
  BOOST_TEST(overlap == limit); // the limit is used, not just respected
  BOOST_TEST(most_held <= limit);
  // Places are reused at once: the ideal is jobs * sleep / limit = 10 s.
  BOOST_TEST(seconds < 2.0 * jobs * sleep_ms / 1000.0 / limit);
  // leasehold verify sees the same in the recorded history.
  auto verify = run({leasehold_bin(), "--database-url", test_dsn(), "verify"});
  BOOST_TEST(verify.exit_code == 0, verify.out << verify.err);
}

// The claim itself, many times: each of 40 claims racing on 8 connections
// for a queue limited to 5 gets what the limit leaves, never more.
BOOST_AUTO_TEST_CASE(racing_claims_never_hold_more_than_the_limit) {
  db.set_queue_concurrency("default", 5);
  for (int w = 0; w < 8; ++w)
    register_worker(db, "w" + std::to_string(w));
  enqueue_sleeps(db, 400, 1);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::thread> claimers;
    for (int w = 0; w < 8; ++w)
      claimers.emplace_back([w] {
        store s{test_dsn()};
        for (int i = 0; i < 5; ++i)
          s.claim("w" + std::to_string(w), "default", 3, {"sleep"});
      });
    for (auto& c : claimers)
      c.join();
    BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 5,
               "round " << round);
    // Give them all back (as a node would after a restart), for the next round.
    db.execute("UPDATE leasehold.jobs SET status = 'queued', locked_by = NULL,"
               " attempts = 0 WHERE status = 'running'");
  }
  // Without the limit, the same claims take what they ask.
  db.set_queue_concurrency("default", std::nullopt);
  BOOST_TEST(db.claim("w0", "default", 30, {"sleep"}).size() == 30u);
}

// A node killed while it holds the limit's places: they come back when its
// lease TTL (1.5 s here) has run out and a reaper rescued its jobs, not
// before (its jobs might still be running, for all the others know).
BOOST_AUTO_TEST_CASE(a_killed_nodes_places_come_back_after_its_ttl_not_before) {
  db.set_queue_concurrency("default", 2);
  enqueue_sleeps(db, 2, 3000); // claimed first: they hold both places
  enqueue_sleeps(db, 6, 10);
  const auto ledger = ledger_paths("limit-crash", 1);
  auto first = start_node({"--concurrency", "2"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 2;
  }, 20s));
  first->signal(SIGKILL);
  first->wait(5000);
  auto killed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
  auto second = start_node({"--concurrency", "2", "--execution-ledger", ledger[0]});
  BOOST_TEST(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 8;
  }, 30s));
  second->signal(SIGTERM);
  BOOST_TEST(second->wait(15000) == 0);
  const auto events = read_ledgers(ledger);
  BOOST_REQUIRE(!events.empty());
  const int64_t first_start = events.front().at_ms;
  ::unlink(ledger[0].c_str());
  BOOST_TEST_MESSAGE("first start " << first_start - killed_ms << " ms after the kill");
  // Its last renewal was at most one heartbeat (300 ms) before the kill.
  BOOST_TEST(first_start - killed_ms >= 1500 - 300);
  BOOST_TEST(first_start - killed_ms <= 6000);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'expired'") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
