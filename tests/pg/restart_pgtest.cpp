// Postgres restarted in the middle of a run: the node stays up, reconnects,
// and every job finishes exactly once.
#include <cstdlib>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(postgres_restart, pg_fixture)

BOOST_AUTO_TEST_CASE(the_node_survives_a_restart_and_every_job_finishes_once) {
  std::vector<new_job> jobs(300);
  for (auto& j : jobs) {
    j.type = "sleep";
    j.payload = R"({"ms":20})";
  }
  db.enqueue_many(jobs);
  auto handlers = builtin_handlers();
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return succeeded() >= 50; },
    10s));
  pg_local("restart");
  // A fresh connection for the checks: the fixture's died with the server.
  store after{test_dsn()};
  auto succeeded = [&] {
    try {
      return static_cast<int64_t>(std::stoll(after.query_value(
        "SELECT count(*) FROM leasehold.all_jobs WHERE status = 'succeeded'").value_or("0")));
    } catch (const std::exception&) {
      return int64_t{0};
    }
  };
  BOOST_TEST(wait_until([&] { return succeeded() == 300; }, 30s));
  BOOST_TEST(n.stats().in_flight == 0);
  n.stop();
  BOOST_TEST(after.query_value("SELECT count(*) FROM leasehold.job_runs"
                               " WHERE outcome = 'succeeded'").value_or("") == "300");
  BOOST_TEST(after.query_value("SELECT count(*) FROM (SELECT job_id FROM leasehold.job_runs"
                               " WHERE outcome = 'succeeded' GROUP BY job_id"
                               " HAVING count(*) > 1) d").value_or("") == "0");
}

BOOST_AUTO_TEST_SUITE_END()
