// Several node processes on one queue: every job succeeds exactly once.
#include <signal.h>

#include <memory>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// The test server trusts local connections, so a password in the URL is
// accepted and ignored: enough to check that it never reaches the logs.
std::string with_password(const std::string& url) {
  auto at = url.find("postgres@");
  BOOST_REQUIRE(at != std::string::npos);
  return url.substr(0, at) + "postgres:s3cr3t-pw@" + url.substr(at + 9);
}

// Every line is one JSON object with ts, level, msg and worker_id; lines
// about a job also carry its ids. Successes are logged only at debug.
void check_log(const std::string& log, bool debug) {
  BOOST_TEST(log.find("s3cr3t-pw") == std::string::npos);
  std::istringstream in{log};
  std::string line;
  int job_lines = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    BOOST_TEST_CONTEXT(line) {
      BOOST_REQUIRE(j.is_object());
      for (auto key : {"ts", "level", "msg", "worker_id"})
        BOOST_TEST(j.contains(key));
      if (j["msg"] == "job succeeded") {
        ++job_lines;
        for (auto key : {"job_id", "type", "attempt", "correlation_id", "trace_id"})
          BOOST_TEST(j.contains(key));
      }
    }
  }
  if (debug)
    BOOST_TEST(job_lines > 0);
  else
    BOOST_TEST(job_lines == 0);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(contention, pg_fixture)

BOOST_AUTO_TEST_CASE(four_nodes_run_2000_jobs_each_exactly_once) {
  std::vector<new_job> jobs(2000);
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].type = i % 2 == 0 ? "noop" : "sleep";
    jobs[i].payload = i % 2 == 0 ? "{}" : R"({"ms":2})";
  }
  db.enqueue_many(jobs);
  std::vector<std::unique_ptr<background_process>> nodes;
  for (int i = 0; i < 4; ++i)
    nodes.push_back(std::make_unique<background_process>(
      std::vector<std::string>{leasehold_bin(), "node", "--concurrency", "8",
                               "--heartbeat-interval", "200ms", "--lease-ttl", "5s",
                               "--poll-interval", "100ms",
                               "--log-level", i < 2 ? "debug" : "info"},
      "/tmp/leasehold-contention-" + std::to_string(i) + ".log",
      std::map<std::string, std::string>{{"DATABASE_URL", with_password(test_dsn())}}));
  BOOST_REQUIRE(wait_until(
    [&] { return succeeded() == 2000; },
    60s));
  for (auto& n : nodes)
    n->signal(SIGTERM);
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto& n = nodes[i];
    BOOST_TEST(n->wait(10000) == 0);
    check_log(n->log(), i < 2);
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs") == 2000);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 2000);
  BOOST_TEST(count("SELECT count(DISTINCT job_id) FROM leasehold.job_runs") == 2000);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE attempts <> 1") == 0);
  // Every node took part (claims are spread, not serialised on one node).
  BOOST_TEST(count("SELECT count(DISTINCT worker_id) FROM leasehold.job_runs") == 4);
}

// A renewal races the completions written while it runs: a lease whose job
// succeeded meanwhile is not renewed, but it was not lost either. Only the
// attempts this node still runs or holds may be reported lost.
BOOST_AUTO_TEST_CASE(renewals_racing_completions_report_no_lost_lease) {
  std::vector<new_job> jobs(40000);
  for (auto& j : jobs)
    j.type = "noop";
  db.enqueue_many(jobs);
  auto n = start_node({"--concurrency", "24"}); // renewals every 300ms
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 40000; }, 60s));
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(10000) == 0);
  BOOST_TEST(log_lines(*n, "leases lost") == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome <> 'succeeded'") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
