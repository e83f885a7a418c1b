// The cluster view (issue 21): every node's live state gathered over CAF by
// any node's GET /cluster, without reading Postgres.
#include <signal.h>

#include <map>
#include <memory>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// The nodes a view lists as reachable, by worker id.
std::map<std::string, nlohmann::json> reachable_nodes(const nlohmann::json& view) {
  std::map<std::string, nlohmann::json> out;
  if (view.is_object())
    for (const auto& n : view["nodes"])
      if (n.value("reachable", false))
        out[n.value("worker_id", "")] = n;
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cluster_view, pg_fixture)

BOOST_AUTO_TEST_CASE(every_node_lists_every_running_attempt_even_with_postgres_cut_off) {
  fault_proxy proxy{dsn_port(test_dsn())};
  enqueue_sleeps(db, 6, 20000);
  auto a = start_node({"--concurrency", "2", "--prefetch", "0"},
                      dsn_with_port(test_dsn(), proxy.port()));
  auto b = start_node({"--concurrency", "2", "--prefetch", "0"});
  auto c = start_node({"--concurrency", "2", "--prefetch", "0"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 6;
  }, 10s));
  std::map<std::string, std::string> trace_of; // job id -> trace id, from Postgres
  for (int i = 0; i < 6; ++i) {
    auto id = value("SELECT id FROM leasehold.jobs ORDER BY id OFFSET " + std::to_string(i)
                    + " LIMIT 1");
    trace_of[id] = value("SELECT trace_id FROM leasehold.jobs WHERE id = " + id);
  }
  std::map<std::string, std::string> owner; // job id -> worker id, from Postgres
  for (const auto& kv : trace_of)
    owner[kv.first] = value("SELECT locked_by FROM leasehold.jobs WHERE id = " + kv.first);
  // Links come up at each node's membership reads (every 300 ms here), and
  // progress is reported every quarter second.
  BOOST_REQUIRE(wait_until([&] {
    for (auto* n : {a.get(), b.get(), c.get()})
      if (reachable_nodes(cluster_of(*n)).size() != 3)
        return false;
    return true;
  }, 5s));
  std::this_thread::sleep_for(500ms);

  auto check = [&](const background_process& asker) {
    auto view = cluster_of(asker);
    auto nodes = reachable_nodes(view);
    BOOST_TEST(nodes.size() == 3u, view.dump());
    size_t listed = 0;
    for (const auto& [worker, n] : nodes) {
      BOOST_TEST(n.value("in_flight", -1) == 2);
      BOOST_TEST(n["pool"].value("size", 0) == 2);
      BOOST_TEST(n.value("protocol", "") == "leasehold-cluster/1");
      BOOST_TEST(!n.value("version", "").empty());
      for (const auto& at : n["attempts"]) {
        auto id = std::to_string(at.value("job_id", int64_t{0}));
        BOOST_TEST_CONTEXT("job " << id) {
          BOOST_TEST(owner[id] == worker);
          BOOST_TEST(at.value("trace_id", "") == trace_of[id]);
          BOOST_TEST(at.value("type", "") == "sleep");
          BOOST_TEST(at.value("attempt", 0) == 1);
          BOOST_TEST(at.value("age_ms", int64_t{0}) >= 450); // running since before the 500 ms wait
          BOOST_TEST(at["progress"].is_object(), at.dump());
        }
        ++listed;
      }
    }
    BOOST_TEST(listed == 6u);
  };
  for (auto* n : {a.get(), b.get(), c.get()})
    check(*n);

  // A cannot reach Postgres now; its view does not need it.
  proxy.blackhole();
  std::this_thread::sleep_for(500ms);
  long took = 0;
  auto view = cluster_of(*a, &took);
  BOOST_TEST(reachable_nodes(view).size() == 3u, view.dump());
  BOOST_TEST(took < 1000);
  proxy.pass();
}

BOOST_AUTO_TEST_CASE(with_links_off_the_cluster_endpoint_says_so) {
  auto a = start_node({"--cluster-listen", "off"});
  BOOST_REQUIRE(wait_until([&] { return !http_address(*a).empty(); }, 15s));
  auto address = http_address(*a);
  httplib::Client http{"127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1))};
  auto res = http.Get("/cluster");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 503);
  BOOST_TEST(res->body.find("--cluster-listen off") != std::string::npos, res->body);
}

BOOST_AUTO_TEST_SUITE_END()
