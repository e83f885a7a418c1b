// The execution ledger: every handler's start and end, as JSON lines the
// chaos suite compares with what the database recorded.
#include <unistd.h>

#include <fstream>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(execution_ledger, pg_fixture)

BOOST_AUTO_TEST_CASE(each_attempt_leaves_a_start_and_an_end_line) {
  auto path = "/tmp/leasehold-ledger-" + std::to_string(getpid()) + ".jsonl";
  unlink(path.c_str());
  auto ok = enqueue(db, "noop");
  auto bad = enqueue(db, "fail", "{}", 1);
  auto cfg = fast_node_config();
  cfg.execution_ledger = path;
  node n{cfg, builtin_handlers()};
  n.start();
  auto worker = n.stats().worker_id;
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.all_jobs"
                 " WHERE status IN ('succeeded', 'failed')") == 2;
  }, 5s));
  n.stop();
  std::map<int64_t, std::vector<nlohmann::json>> by_job;
  std::ifstream in{path};
  for (std::string line; std::getline(in, line);)
    by_job[nlohmann::json::parse(line)["job"].get<int64_t>()].push_back(
      nlohmann::json::parse(line));
  BOOST_REQUIRE(by_job[ok].size() == 2u);
  BOOST_TEST(by_job[ok][0]["event"] == "start");
  BOOST_TEST(by_job[ok][1]["event"] == "end");
  BOOST_TEST(by_job[ok][1]["outcome"] == "succeeded");
  BOOST_TEST(by_job[ok][1]["worker"] == worker);
  BOOST_TEST(by_job[ok][1]["at_ms"].get<int64_t>() >= by_job[ok][0]["at_ms"].get<int64_t>());
  BOOST_REQUIRE(by_job[bad].size() == 2u);
  BOOST_TEST(by_job[bad][1]["outcome"] == "handler_error");
  unlink(path.c_str());
}

BOOST_AUTO_TEST_CASE(a_ledger_that_cannot_be_opened_stops_the_node_from_starting) {
  auto cfg = fast_node_config();
  cfg.execution_ledger = "/nonexistent-dir/ledger.jsonl";
  BOOST_CHECK_THROW((node{cfg, builtin_handlers()}.start()), std::exception);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
