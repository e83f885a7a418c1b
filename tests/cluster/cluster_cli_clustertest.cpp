// `leasehold cluster` (issue 21): the cluster view from the command line,
// through any node found in the database or given with --node, plain or
// over TLS.
#include <signal.h>

#include <memory>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_pki.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

run_result run_cluster_cli(std::vector<std::string> args) {
  args.insert(args.begin(), {leasehold_bin(), "cluster"});
  return run_for(args, {{"DATABASE_URL", test_dsn()}}, 20000);
}

int reachable_in(const run_result& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_object() ? j.value("reachable", -1) : -1;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cluster_cli, pg_fixture)

BOOST_AUTO_TEST_CASE(it_lists_every_node_with_its_running_jobs) {
  enqueue_sleeps(db, 3, 20000);
  std::vector<std::unique_ptr<background_process>> nodes;
  for (int i = 0; i < 3; ++i)
    nodes.push_back(start_node({"--concurrency", "1", "--prefetch", "0"}));
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 3;
  }, 10s));
  // Every node linked to the others (a heartbeat or two).
  BOOST_REQUIRE(wait_until([&] { return reachable_in(run_cluster_cli({"--json"})) == 3; }, 5s));

  auto json = run_cluster_cli({"--json"});
  BOOST_TEST(json.exit_code == 0, json.err);
  auto view = nlohmann::json::parse(json.out);
  for (const auto& n : view["nodes"]) {
    BOOST_TEST(n.value("in_flight", -1) == 1);
    BOOST_TEST(n["attempts"].size() == 1u);
  }

  auto table = run_cluster_cli({});
  BOOST_TEST(table.exit_code == 0, table.err);
  for (const auto& n : nodes)
    BOOST_TEST(table.out.find(worker_of(*n)) != std::string::npos, table.out);
  BOOST_TEST(table.out.find("3 reachable, 0 unreachable") != std::string::npos, table.out);
  BOOST_TEST(table.out.find(" sleep attempt 1") != std::string::npos, table.out);

  // Straight to one node, without the database.
  // (Each node links to the others at its own membership reads: this one
  // may still be a heartbeat behind the one the database gave first.)
  auto at = cluster_address(*nodes[1]);
  run_result direct;
  BOOST_TEST(wait_until([&] {
    direct = run_for({leasehold_bin(), "cluster", "--node", at, "--json"}, {}, 20000);
    return reachable_in(direct) == 3;
  }, 5s));
  BOOST_TEST(direct.exit_code == 0, direct.err);
  BOOST_TEST(nlohmann::json::parse(direct.out).value("gathered_by", "") == worker_of(*nodes[1]));
}

BOOST_AUTO_TEST_CASE(a_tls_cluster_refuses_a_client_without_its_certificates) {
  test_pki pki{{"a", "b", "cli"}};
  auto a = start_node(pki.node_flags("a"));
  auto b = start_node(pki.node_flags("b"));
  BOOST_REQUIRE(wait_until([&] { return !cluster_address(*a).empty()
                                        && !cluster_address(*b).empty(); }, 15s));
  auto with = pki.node_flags("cli");
  with.push_back("--json");
  BOOST_REQUIRE(wait_until([&] { return reachable_in(run_cluster_cli(with)) == 2; }, 5s));

  auto plain = run_cluster_cli({});
  BOOST_TEST(plain.exit_code != 0);
  BOOST_TEST(plain.err.find("refused") != std::string::npos, plain.err);
  BOOST_TEST(std::count(plain.err.begin(), plain.err.end(), '\n') <= 1, plain.err);
  auto rogue = pki.node_flags("rogue");
  auto refused = run_cluster_cli(rogue);
  BOOST_TEST(refused.exit_code != 0);
  BOOST_TEST(refused.err.find("refused") != std::string::npos, refused.err);
  // The nodes are none the worse.
  BOOST_TEST(reachable_in(run_cluster_cli(with)) == 2);
}

BOOST_AUTO_TEST_CASE(bad_arguments_and_an_empty_cluster_are_one_line_errors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"--node", "localhost:7000"}, {"--node", "127.0.0.1"}, {"--timeout", "soon"},
         {"--cluster-cert", "/nonexistent.pem"}}) {
    auto r = run_cluster_cli(args);
    BOOST_TEST_CONTEXT(args.at(0) << " " << args.at(1)) {
      BOOST_TEST(r.exit_code != 0);
      BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
    }
  }
  auto none = run_cluster_cli({});
  BOOST_TEST(none.exit_code != 0);
  BOOST_TEST(none.err.find("no live node") != std::string::npos, none.err);
  auto closed = run_cluster_cli({"--node", "127.0.0.1:1"});
  BOOST_TEST(closed.exit_code != 0);
  BOOST_TEST(closed.err.find("unreachable") != std::string::npos, closed.err);
}

BOOST_AUTO_TEST_SUITE_END()
