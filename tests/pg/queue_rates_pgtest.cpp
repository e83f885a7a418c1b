// A queue's rate limit (migration 024): at most `rate` jobs started per
// period across every node, bursts of up to `burst`, held over a minute by
// three real node processes (checked through their execution ledgers), and
// by racing claims. Real Postgres.
#include <algorithm>
#include <csignal>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/ledgers.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_http.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

struct rates_fixture : pg_fixture {
  ~rates_fixture() { db.execute("TRUNCATE leasehold.queues"); }
};

// The most starts in any window [t, t + window_ms) that begins at a start.
int most_starts_in(const std::vector<int64_t>& starts, int64_t window_ms) {
  int most = 0;
  for (size_t i = 0, j = 0; i < starts.size(); ++i) {
    while (j < starts.size() && starts[j] < starts[i] + window_ms)
      ++j;
    most = std::max(most, static_cast<int>(j - i));
  }
  return most;
}

constexpr const char* token = "rates-test-token";

std::string post_limits(int port, const std::string& body, bool with_token = true) {
  return "POST /queues/default/limits HTTP/1.1\r\nHost: x\r\n"
         + (with_token ? std::string{"Authorization: Bearer "} + token + "\r\n" : "")
         + "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size())
         + "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(queue_rates, rates_fixture)

BOOST_AUTO_TEST_CASE(three_nodes_hold_the_rate_over_a_minute) {
  constexpr int rate = 10, burst = 5, seconds = 60;
  enqueue_sleeps(db, 2000, 1);
  auto ledgers = ledger_paths("rates", 3);
  std::vector<std::unique_ptr<background_process>> nodes;
  for (const auto& ledger : ledgers)
    nodes.push_back(start_node({"--concurrency", "8", "--execution-ledger", ledger,
                                "--http-token", token}));
  // Set over HTTP on a running node: its claims follow at once.
  std::string address;
  BOOST_REQUIRE(wait_until([&] { return !(address = http_address(*nodes[0])).empty(); }, 20s));
  auto port = std::stoi(address.substr(address.rfind(':') + 1));
  std::string body = R"({"rate": "10/s", "burst": 5})";
  BOOST_TEST(raw_request(port, post_limits(port, body, false)).status == 401);
  BOOST_TEST(raw_request(port, post_limits(port, R"({"rate": "10/fortnight"})")).status == 400);
  BOOST_TEST(raw_request(port, post_limits(port, R"({"burst": 5})")).status == 400);
  BOOST_TEST(raw_request(port, post_limits(port, R"({"rate": 10})")).status == 400);
  auto set = raw_request(port, post_limits(port, body));
  BOOST_REQUIRE_MESSAGE(set.status == 200, set.body);
  auto set_at = std::chrono::system_clock::now();
  // Jobs started before the limit are not its to judge (verify --since).
  std::this_thread::sleep_for(1s);
  auto judged_from = value("SELECT now()::text");
  BOOST_TEST(nlohmann::json::parse(set.body)["burst"] == burst);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  // The running rate, as GET /queues says it.
  auto listed = nlohmann::json::parse(
    run({leasehold_bin(), "--database-url", test_dsn(), "queue", "list", "--json"}).out);
  for (auto& n : nodes)
    n->signal(SIGTERM);
  for (auto& n : nodes)
    BOOST_TEST(n->wait(15000) == 0);
  auto set_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  set_at.time_since_epoch()).count();
  std::vector<int64_t> starts, before;
  for (const auto& e : read_ledgers(ledgers))
    if (e.delta > 0)
      (e.at_ms >= set_ms + 200 ? starts : before).push_back(e.at_ms);
  BOOST_REQUIRE(!starts.empty());
  auto span_s = (starts.back() - starts.front()) / 1000.0;
  auto per_second = most_starts_in(starts, 1000);
  auto per_minute = most_starts_in(starts, 60000);
  BOOST_TEST_MESSAGE(starts.size() << " starts over " << span_s << " s; at most " << per_second
                                   << " in any second, " << per_minute
                                   << " in any minute (limit " << rate << "/s, burst " << burst
                                   << "); " << before.size() << " before the limit");
  // Never more than the bucket allows in any window: burst + rate * window.
  BOOST_TEST(per_second <= burst + rate);
  BOOST_TEST(per_minute <= burst + rate * 60);
  // And the rate is used: within 5% of it over the minute.
  BOOST_TEST(starts.size() >= 0.95 * rate * span_s);
  BOOST_TEST(listed[0]["rate"] == rate);
  auto verify = run({leasehold_bin(), "--database-url", test_dsn(), "verify", "--since",
                     judged_from});
  BOOST_TEST(verify.exit_code == 0, verify.out << verify.err);
}

// The claim itself: 8 connections claim as fast as they can for 3 s from a
// queue limited to 50/s with bursts of 10.
BOOST_AUTO_TEST_CASE(racing_claims_take_no_more_than_the_bucket_holds) {
  auto r = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "limit", "default",
                "--rate", "50/s", "--burst", "10"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  for (int w = 0; w < 8; ++w)
    register_worker(db, "w" + std::to_string(w));
  enqueue_sleeps(db, 1000, 1);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> claimers;
  for (int w = 0; w < 8; ++w)
    claimers.emplace_back([w, t0] {
      store s{test_dsn()};
      while (std::chrono::steady_clock::now() - t0 < 3s)
        s.claim("w" + std::to_string(w), "default", 7, {"sleep"});
    });
  for (auto& c : claimers)
    c.join();
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto claimed = count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'");
  BOOST_TEST_MESSAGE(claimed << " claimed in " << elapsed << " s at 50/s, burst 10");
  BOOST_TEST(claimed <= 10 + 50 * elapsed);
  BOOST_TEST(claimed >= 0.9 * 50 * 3);
}

BOOST_AUTO_TEST_SUITE_END()
