// Job types during a rolling deploy, with real `leasehold node` processes:
// a job of a type that only the new build knows waits, queued, while only
// old nodes run, `leasehold health` names it, and the first node that knows
// the type runs it. And `--attempt-timeout` ends an attempt that runs too
// long.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <thread>

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

int log_counter = 0;

std::unique_ptr<background_process> start_node(std::vector<std::string> extra) {
  std::vector<std::string> args = {
    leasehold_bin(), "node", "--heartbeat-interval", "200ms", "--lease-ttl", "1s",
    "--stale-after", "1s", "--reap-interval", "200ms", "--poll-interval", "100ms",
    "--retry-base", "50ms", "--stop-timeout", "5s", "--concurrency", "4",
    "--http-listen", "off"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<background_process>(
    args,
    "/tmp/leasehold-rolling-" + std::to_string(getpid()) + "-"
      + std::to_string(++log_counter) + ".log",
    std::map<std::string, std::string>{{"DATABASE_URL", test_dsn()}});
}

run_result health() {
  return run({leasehold_bin(), "health", "--stale-after", "1s"},
             {{"DATABASE_URL", test_dsn()}});
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(rolling_deploy, pg_fixture)

BOOST_AUTO_TEST_CASE(a_new_type_waits_for_a_node_that_knows_it) {
  auto old_node = start_node({});
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.worker_instances"
                       " WHERE status = 'RUNNING'") == 1; }, 10s));
  auto id = std::to_string(enqueue(db, "resize", R"({"w":64})", 3));
  auto noop = std::to_string(enqueue(db, "noop"));
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + noop)
                   == "succeeded"; }, 10s));
  std::this_thread::sleep_for(500ms); // five polls of the old node
  BOOST_TEST(value("SELECT status || ' ' || attempts FROM leasehold.all_jobs WHERE id = " + id)
             == "queued 0");
  auto before = health();
  BOOST_TEST(before.exit_code == 0, before.out << before.err); // a warning, not critical
  BOOST_TEST(before.out.find("UNSERVED_TYPE") != std::string::npos, before.out);
  BOOST_TEST(before.out.find("1 queued job(s) of type 'resize'") != std::string::npos,
             before.out);

  // The new build knows `resize` (here: an external program).
  auto program = "/tmp/leasehold-rolling-" + std::to_string(getpid()) + "-resize.sh";
  std::ofstream{program} << "#!/bin/sh\ncat >/dev/null\nexit 0\n";
  chmod(program.c_str(), 0755);
  auto new_node = start_node({"--exec", "resize=" + program});
  BOOST_TEST(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id)
                   == "succeeded"; }, 10s));
  BOOST_TEST(value("SELECT attempts FROM leasehold.all_jobs WHERE id = " + id) == "1");
  auto after = health();
  BOOST_TEST(after.out.find("UNSERVED_TYPE") == std::string::npos, after.out);
  new_node->signal(SIGTERM);
  old_node->signal(SIGTERM);
  BOOST_TEST(new_node->wait(5000) == 0);
  BOOST_TEST(old_node->wait(5000) == 0);
  unlink(program.c_str());
}

BOOST_AUTO_TEST_CASE(attempt_timeout_ends_an_attempt_that_runs_too_long) {
  // --exec types take --exec-timeout as their attempt's timeout.
  auto program = "/tmp/leasehold-rolling-" + std::to_string(getpid()) + "-slow.sh";
  std::ofstream{program} << "#!/bin/sh\nsleep 10\n";
  chmod(program.c_str(), 0755);
  auto n = start_node({"--attempt-timeout", "300ms", "--exec", "slow=" + program,
                       "--exec-timeout", "400ms"});
  auto id = std::to_string(enqueue(db, "sleep", R"({"ms":10000})", 2));
  auto slow = std::to_string(enqueue(db, "slow", "{}", 1));
  BOOST_TEST(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'failed'")
                   == 2; }, 5s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + id
                   + " AND error = 'attempt timed out after 300ms'") == 2);
  BOOST_TEST(value("SELECT error FROM leasehold.job_runs WHERE job_id = " + slow)
             == "attempt timed out after 400ms");
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(5000) == 0);
  BOOST_TEST(n->log().find("\"job timeout\"") != std::string::npos, n->log());
  unlink(program.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
