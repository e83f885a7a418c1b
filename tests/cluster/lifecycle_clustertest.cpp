// Worker instances as real processes: singletons enforced by the database,
// graceful and hard stops, crashes, pauses, and version drift.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/node_args.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// Short timeouts so that crashes and pauses are noticed in about a second.
// `extra` flags replace a default of the same name.
std::vector<std::string> node_args(std::vector<std::string> extra = {}) {
  return node_args_over({{"--heartbeat-interval", "200ms"}, {"--lease-ttl", "1s"},
                         {"--stale-after", "1s"}, {"--reap-interval", "200ms"},
                         {"--poll-interval", "100ms"}, {"--retry-base", "50ms"},
                         {"--stop-timeout", "5s"}, {"--concurrency", "4"}},
                        extra);
}

int log_counter = 0;

std::unique_ptr<background_process>
start_node(std::vector<std::string> extra = {},
           std::map<std::string, std::string> env = {}) {
  env["DATABASE_URL"] = test_dsn();
  return std::make_unique<background_process>(
    node_args(std::move(extra)),
    "/tmp/leasehold-lifecycle-" + std::to_string(getpid()) + "-"
      + std::to_string(++log_counter) + ".log",
    env);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(lifecycle, pg_fixture)

BOOST_AUTO_TEST_CASE(a_second_singleton_fails_at_once_naming_the_first) {
  auto first = start_node({"--worker-type", "cron", "--singleton"});
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.worker_instances"
                       " WHERE status = 'RUNNING'") == 1; }, 10s));
  auto holder = value("SELECT worker_id || ' on ' || hostname || ' (pid ' || pid || ')'"
                      " FROM leasehold.worker_instances");
  auto second = start_node({"--worker-type", "cron", "--singleton"});
  auto code = second->wait(5000);
  BOOST_TEST(code != 0);
  BOOST_TEST(code != -1);
  BOOST_TEST(second->log().find("another cron worker is already active: " + holder)
             != std::string::npos, second->log());
  // A non-singleton of another type is unaffected.
  auto other = start_node({"--worker-type", "mailer"});
  BOOST_TEST(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.worker_instances"
                       " WHERE status = 'RUNNING'") == 2; }, 10s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances") == 2);
}

BOOST_AUTO_TEST_CASE(five_simultaneous_singletons_register_exactly_one) {
  std::vector<std::unique_ptr<background_process>> nodes;
  for (int i = 0; i < 5; ++i)
    nodes.push_back(start_node({"--worker-type", "leader", "--singleton"}));
  int failed = 0;
  for (auto& n : nodes) {
    auto code = n->wait(3000);
    if (code > 0) {
      ++failed;
      BOOST_TEST(n->log().find("another leader worker is already active") != std::string::npos);
    }
  }
  BOOST_TEST(failed == 4);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances") == 1); // no partial rows
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances"
                   " WHERE status IN ('STARTING', 'RUNNING')") == 1);
}

BOOST_AUTO_TEST_CASE(a_killed_nodes_jobs_finish_elsewhere_and_it_ends_stopped) {
  std::vector<new_job> jobs(4);
  for (auto& j : jobs) {
    j.type = "sleep";
    j.payload = R"({"ms":1500})";
  }
  db.enqueue_many(jobs);
  auto victim = start_node();
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'running'") == 4; }, 10s));
  auto victim_id = value("SELECT DISTINCT locked_by FROM leasehold.all_jobs");
  victim->signal(SIGKILL);
  victim->wait(2000);
  auto rescuer = start_node();
  BOOST_REQUIRE(wait_until(
    [&] { return succeeded() == 4; }, 15s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE worker_id = '" + victim_id
                   + "' AND outcome = 'expired'") == 4);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE worker_id <> '" + victim_id
                   + "' AND outcome = 'succeeded'") == 4);
  BOOST_TEST(wait_until(
    [&] { return value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '"
                       + victim_id + "'") == "STOPPED"; }, 5s));
}

BOOST_AUTO_TEST_CASE(sigterm_lets_a_short_job_finish_and_exits_zero) {
  auto id = std::to_string(enqueue(db, "sleep", R"({"ms":1000})"));
  auto n = start_node();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "running"; }, 10s));
  n->signal(SIGTERM);
  // STOPPING at once, while the job still runs.
  BOOST_TEST(wait_until(
    [&] { return value("SELECT status FROM leasehold.worker_instances") == "STOPPING"; }, 2s));
  BOOST_TEST(n->wait(10000) == 0);
  BOOST_TEST(value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "succeeded");
  BOOST_TEST(value("SELECT status FROM leasehold.worker_instances") == "STOPPED");
}

BOOST_AUTO_TEST_CASE(a_job_longer_than_the_grace_period_is_released_to_another_node) {
  auto id = std::to_string(enqueue(db, "sleep", R"({"ms":2500})"));
  auto first = start_node({"--stop-timeout", "300ms"});
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "running"; }, 10s));
  first->signal(SIGTERM);
  BOOST_TEST(first->wait(5000) == 0);
  auto log = first->log();
  BOOST_TEST(log.find(R"("reason":"stopping_timeout")") != std::string::npos, log);
  BOOST_TEST(value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "queued");
  BOOST_TEST(value("SELECT outcome FROM leasehold.job_runs WHERE attempt = 1 AND job_id = " + id)
             == "stopping_timeout");
  auto second = start_node();
  BOOST_TEST(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "succeeded"; }, 10s));
  BOOST_TEST(value("SELECT outcome FROM leasehold.job_runs WHERE attempt = 2 AND job_id = " + id)
             == "succeeded");
}

BOOST_AUTO_TEST_CASE(a_second_signal_stops_at_once_releasing_every_lease) {
  std::vector<new_job> jobs(3);
  for (auto& j : jobs) {
    j.type = "sleep";
    j.payload = R"({"ms":20000})";
  }
  db.enqueue_many(jobs);
  auto n = start_node({"--stop-timeout", "60s"});
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'running'") == 3; }, 10s));
  n->signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  n->signal(SIGINT);
  BOOST_TEST(n->wait(3000) == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'queued'"
                   " AND locked_by IS NULL") == 3);
}

BOOST_AUTO_TEST_CASE(a_paused_node_learns_it_lost_itself_and_its_old_attempt_writes_nothing) {
  auto id = std::to_string(enqueue(db, "sleep", R"({"ms":1500})"));
  auto paused = start_node();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "running"; }, 10s));
  auto paused_id = value("SELECT locked_by FROM leasehold.all_jobs WHERE id = " + id);
  paused->signal(SIGSTOP);
  auto other = start_node();
  // The other node presumes it dead, rescues the job and runs it.
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '"
                       + paused_id + "'") == "STOPPED"; }, 10s));
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "succeeded"; }, 10s));
  paused->signal(SIGCONT);
  // Revoked: its attempt ends and it goes on under a fresh worker id
  // (a singleton would exit with status 3: see faults).
  BOOST_TEST(wait_until([&] {
    return paused->log().find("registration revoked") != std::string::npos;
  }, 5s), paused->log());
  BOOST_TEST(paused->wait(500) == -1, paused->log());
  BOOST_TEST(value("SELECT outcome FROM leasehold.job_runs WHERE attempt = 1 AND job_id = " + id)
             == "expired");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + id
                   + " AND outcome = 'succeeded' AND worker_id <> '" + paused_id + "'") == 1);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE worker_id = '" + paused_id
                   + "' AND outcome <> 'expired'") == 0);
  BOOST_TEST(value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '"
                   + paused_id + "'") == "STOPPED"); // the old id stays revoked
}

BOOST_AUTO_TEST_CASE(versions_are_recorded_and_drift_is_reported) {
  auto v1 = start_node({}, {{"LEASEHOLD_VERSION", "v1.0.0"}});
  auto v2 = start_node({}, {{"LEASEHOLD_VERSION", "v2.0.0"}});
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.worker_instances"
                       " WHERE status = 'RUNNING'") == 2; }, 10s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances WHERE version = 'v1.0.0'"
                   " AND metadata ? 'compiler' AND metadata ? 'caf' AND metadata ? 'libpqxx'"
                   " AND metadata ? 'arch' AND metadata ? 'platform' AND metadata ? 'build_id'") == 1);
  auto table = run({leasehold_bin(), "workers"}, {{"DATABASE_URL", test_dsn()}});
  BOOST_TEST(table.exit_code == 0);
  BOOST_TEST(table.out.find("VERSION DRIFT: default") != std::string::npos, table.out);
  auto json = run({leasehold_bin(), "workers", "--json"}, {{"DATABASE_URL", test_dsn()}});
  auto j = nlohmann::json::parse(json.out);
  BOOST_TEST(j["workers"].size() == 2u);
  BOOST_REQUIRE(j["version_drift"].size() == 1u);
  BOOST_TEST(j["version_drift"][0]["versions"].size() == 2u);
  auto version = run({leasehold_bin(), "version"}, {{"LEASEHOLD_VERSION", "v9"}});
  BOOST_TEST(nlohmann::json::parse(version.out)["version"] == "v9");
  v2->signal(SIGTERM);
  BOOST_TEST(v2->wait(5000) == 0);
  auto after = run({leasehold_bin(), "workers", "--json"}, {{"DATABASE_URL", test_dsn()}});
  BOOST_TEST(nlohmann::json::parse(after.out)["version_drift"].size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
