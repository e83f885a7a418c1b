// A rolling deploy across cluster protocol versions (issue 21): nodes of
// version 1 and nodes that add a message in version 2 still link, see one
// another in the cluster view, and use v2 only between v2 nodes.
#include <memory>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(cluster_versions, pg_fixture)

BOOST_AUTO_TEST_CASE(v1_and_v2_nodes_link_and_v2_is_spoken_only_between_v2_nodes) {
  auto a = start_node({});                     // the old version
  auto b = start_node({"--cluster-test-v2"});  // the new one, rolled out
  auto c = start_node({"--cluster-test-v2"});
  for (auto* n : {a.get(), b.get(), c.get()})
    BOOST_REQUIRE(wait_until([&] { return !cluster_address(*n).empty(); }, 15s));
  for (auto* n : {a.get(), b.get(), c.get()}) {
    bool all = wait_until([&] {
      auto view = cluster_of(*n);
      return view.is_object() && view.value("reachable", 0) == 3;
    }, 5s);
    BOOST_TEST(all, cluster_of(*n).dump());
  }
  // B and C greeted each other in v2, and A in v1 only.
  BOOST_TEST(wait_until([&] {
    return log_lines(*b, "cluster v2 echo answered") >= 1
           && log_lines(*c, "cluster v2 echo answered") >= 1;
  }, 3s));
  BOOST_TEST(log_lines(*b, "cluster peer speaks leasehold-cluster/1 only") >= 1);
  BOOST_TEST(log_lines(*c, "cluster peer speaks leasehold-cluster/1 only") >= 1);
  BOOST_TEST(log_lines(*a, "cluster v2 echo answered") == 0);
  // A never got a message it does not know (CAF would print it).
  BOOST_TEST(a->log().find("unexpected message") == std::string::npos);
  BOOST_TEST(b->log().find("v2 echo failed") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
