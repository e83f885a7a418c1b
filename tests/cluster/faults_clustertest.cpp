// Faults as production brings them, against real node processes: Postgres
// gone for longer than every timeout, a row lock held by someone else's
// session, a node paused until others revoke it. Healthy nodes keep their
// work; a revoked worker id writes nothing.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(faults, pg_fixture)

BOOST_AUTO_TEST_CASE(an_outage_three_times_the_stale_threshold_costs_healthy_nodes_nothing) {
  enqueue_sleeps(db, 30, 14000);
  auto a = start_node({"--concurrency", "15"});
  auto b = start_node({"--concurrency", "15"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 30;
  }, 15s));
  // A third node, killed during the outage: it really died.
  auto dead_job = std::to_string(enqueue(db, "sleep", R"({"ms":1000})"));
  auto doomed = start_node({"--concurrency", "1"});
  BOOST_REQUIRE(wait_until([&] {
    return value("SELECT status FROM leasehold.jobs WHERE id = " + dead_job) == "running";
  }, 10s));
  auto doomed_id = value("SELECT locked_by FROM leasehold.jobs WHERE id = " + dead_job);
  pg_local("stop");
  doomed->signal(SIGKILL);
  std::this_thread::sleep_for(7500ms); // 3x the stale threshold
  pg_local("start");
  auto back = std::chrono::steady_clock::now();
  // The dead node's job is rescued, but only after its TTL counted from
  // when the database came back.
  auto holder = [&] {
    return fresh_value("SELECT status || '/' || coalesce(locked_by, '')"
                       " FROM leasehold.all_jobs WHERE id = " + dead_job);
  };
  BOOST_TEST(wait_until([&] {
    auto h = holder();
    return !h.empty() && h != "running/" + doomed_id;
  }, 15s));
  auto rescued_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - back).count();
  BOOST_TEST_MESSAGE("the killed node's job was rescued " << rescued_after_ms
                     << " ms after Postgres was back");
  // Counted from when pg-local.sh returned, a little after Postgres was
  // up: the TTL (1.5s) less that slack.
  BOOST_TEST(rescued_after_ms >= 1300);
  // Every healthy attempt finishes and is written; nobody exits.
  BOOST_TEST(wait_until([&] {
    return fresh_count("SELECT count(*) FROM leasehold.job_runs"
                       " WHERE outcome = 'succeeded'") == 31;
  }, 30s));
  BOOST_TEST(a->wait(0) == -1, a->log());
  BOOST_TEST(b->wait(0) == -1, b->log());
  BOOST_TEST(fresh_count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'expired'"
                         " AND worker_id <> '" + doomed_id + "'") == 0);
  BOOST_TEST(fresh_count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'"
                         " AND attempt = 1") == 30);
  BOOST_TEST(fresh_count("SELECT count(*) FROM leasehold.worker_instances"
                         " WHERE status = 'RUNNING'") == 2);
}

BOOST_AUTO_TEST_CASE(a_row_lock_held_by_another_session_costs_nothing) {
  enqueue_sleeps(db, 10, 4000);
  auto a = start_node({"--concurrency", "10"});
  auto idle = start_node({"--concurrency", "2"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 10;
  }, 15s));
  auto locked = value("SELECT min(id) FROM leasehold.jobs");
  // An operator's forgotten transaction: 8s on one running job's row,
  // longer than the lease TTL and the stale threshold together.
  std::thread holder([&] {
    store s{test_dsn()};
    s.execute("UPDATE leasehold.jobs SET payload = payload WHERE id = " + locked
              + "; SELECT pg_sleep(8)");
  });
  holder.join();
  BOOST_TEST(wait_until([&] { return succeeded() == 10; }, 20s));
  BOOST_TEST(a->wait(0) == -1, a->log());
  BOOST_TEST(idle->wait(0) == -1, idle->log());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome <> 'succeeded'") == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'"
                   " AND attempt = 1") == 10);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances"
                   " WHERE status = 'RUNNING'") == 2);
}

BOOST_AUTO_TEST_CASE(a_revoked_node_coming_back_writes_nothing_and_registers_again) {
  enqueue_sleeps(db, 2, 3000);
  auto paused = start_node({"--concurrency", "4"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 2;
  }, 10s));
  auto old_id = value("SELECT DISTINCT locked_by FROM leasehold.jobs");
  auto address = http_address(*paused);
  paused->signal(SIGSTOP);
  auto other = start_node({"--concurrency", "2", "--queue", "elsewhere=1"});
  BOOST_REQUIRE(wait_until([&] {
    return value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '" + old_id
                 + "'") == "STOPPED";
  }, 15s));
  // Work waits for the paused node's first look when it wakes up: the old
  // code claimed and ran it under the revoked worker id.
  enqueue_sleeps(db, 4, 100, "noop");
  paused->signal(SIGCONT);
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 6; }, 20s));
  BOOST_TEST(paused->wait(0) == -1, paused->log());
  auto log = paused->log();
  BOOST_TEST(log.find("registration revoked") != std::string::npos, log);
  // Nothing was claimed or written under the revoked id once it was revoked.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs r JOIN leasehold.worker_instances w"
                   " ON w.worker_id = r.worker_id WHERE r.worker_id = '" + old_id
                   + "' AND (r.outcome <> 'expired' OR r.started_at >= w.stopped_at)") == 0);
  // It goes on under a fresh worker id, same process.
  auto pid = std::to_string(paused->pid());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances WHERE pid = " + pid
                   + " AND status = 'RUNNING' AND worker_id <> '" + old_id + "'") == 1);
  enqueue_sleeps(db, 8, 50);
  BOOST_TEST(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.job_runs r JOIN leasehold.worker_instances w"
                 " USING (worker_id) WHERE w.pid = " + pid + " AND w.worker_id <> '" + old_id
                 + "' AND r.outcome = 'succeeded'") > 0;
  }, 10s));
  // Visible in /health.
  BOOST_REQUIRE(!address.empty());
  auto health = run({leasehold_bin(), "health", "--url", "http://" + address, "--json"});
  auto j = nlohmann::json::parse(health.out, nullptr, false);
  BOOST_TEST(j["node"]["reregistrations"] == 1, health.out);
}

BOOST_AUTO_TEST_CASE(a_revoked_singleton_exits_and_there_are_never_two_active) {
  enqueue_sleeps(db, 1, 3000, "sleep");
  auto first = start_node({"--worker-type", "solo", "--singleton"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 1;
  }, 10s));
  auto old_id = value("SELECT locked_by FROM leasehold.jobs");
  first->signal(SIGSTOP);
  auto reaper = start_node({"--worker-type", "other", "--queue", "elsewhere=1"});
  BOOST_REQUIRE(wait_until([&] {
    return value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '" + old_id
                 + "'") == "STOPPED";
  }, 15s));
  auto second = start_node({"--worker-type", "solo", "--singleton"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.worker_instances WHERE worker_type = 'solo'"
                 " AND status = 'RUNNING'") == 1;
  }, 10s));
  enqueue_sleeps(db, 4, 50, "noop");
  first->signal(SIGCONT);
  int64_t most_active = 0;
  auto deadline = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < deadline) {
    most_active = std::max(most_active, count("SELECT count(*) FROM leasehold.worker_instances"
                                              " WHERE worker_type = 'solo' AND status"
                                              " IN ('STARTING', 'RUNNING')"));
    std::this_thread::sleep_for(50ms);
  }
  BOOST_TEST(most_active == 1);
  BOOST_TEST(first->wait(5000) == 3, first->log());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances WHERE pid = "
                   + std::to_string(first->pid())) == 1); // never re-registered
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs r JOIN leasehold.worker_instances w"
                   " ON w.worker_id = r.worker_id WHERE r.worker_id = '" + old_id
                   + "' AND (r.outcome <> 'expired' OR r.started_at >= w.stopped_at)") == 0);
  BOOST_TEST(wait_until([&] { return succeeded() == 5; }, 15s));
}

BOOST_AUTO_TEST_SUITE_END()
