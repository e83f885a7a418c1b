// Instant control across the cluster (issue 21): a cancel, a drain or a
// queue pause sent to any node reaches the node it concerns over a CAF
// link at once, and through Postgres at that node's next heartbeat or
// poll when the links are down.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/ledgers.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

const std::string token = "cluster-control-token";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

httplib::Result post(const background_process& node, const std::string& path) {
  auto address = http_address(node);
  httplib::Client http{"127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1))};
  http.set_read_timeout(10, 0);
  return http.Post(path.c_str(), {{"Authorization", "Bearer " + token}}, "", "text/plain");
}

// The node's counter from GET /metrics (-1 if absent).
int64_t metric(const background_process& node, const std::string& name) {
  auto address = http_address(node);
  httplib::Client http{"127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1))};
  auto res = http.Get("/metrics");
  if (!res)
    return -1;
  auto at = res->body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(res->body.substr(at + name.size() + 2));
}

bool linked(const background_process& a, const background_process& b) {
  auto c = cluster_of(a);
  auto me = worker_of(a), peer = worker_of(b);
  if (!c.is_object())
    return false;
  for (const auto& n : c["nodes"])
    if (n.value("worker_id", "") == me)
      for (const auto& l : n["links"])
        if (l.value("worker_id", "") == peer)
          return l.value("state", "") == "up";
  return false;
}

// A pair of nodes whose every cluster link runs through a fault proxy
// (each advertises its proxy), so that cutting the proxies cuts the links
// and nothing else. B runs the `sleeper` exec jobs; both take the token.
struct proxied_pair {
  uint16_t a_port = free_port(), b_port = free_port();
  fault_proxy a_proxy{a_port}, b_proxy{b_port};
  std::unique_ptr<background_process> a, b;
  std::string ledger;

  explicit proxied_pair(const std::vector<std::string>& b_extra = {}) {
    ledger = ledger_paths("control", 1).front();
    std::vector<std::string> common = {"--http-token", token, "--heartbeat-interval", "2s",
                                       "--lease-ttl", "8s", "--stale-after", "10s"};
    auto a_args = common;
    a_args.insert(a_args.end(), {"--cluster-listen", "127.0.0.1:" + std::to_string(a_port),
                                 "--cluster-advertise",
                                 "127.0.0.1:" + std::to_string(a_proxy.port()),
                                 "--queue", "other=1"});
    auto b_args = common;
    b_args.insert(b_args.end(), {"--cluster-listen", "127.0.0.1:" + std::to_string(b_port),
                                 "--cluster-advertise",
                                 "127.0.0.1:" + std::to_string(b_proxy.port()),
                                 "--exec", "sleeper=/bin/sleep 61", "--execution-ledger",
                                 ledger});
    b_args.insert(b_args.end(), b_extra.begin(), b_extra.end());
    a = start_node(a_args);
    b = start_node(b_args);
  }

  bool await_links() {
    return wait_until([&] { return linked(*a, *b) && linked(*b, *a); }, 15s);
  }

  void cut() {
    a_proxy.blackhole();
    b_proxy.blackhole();
  }

  // When B's handler of `job` returned, from its ledger (0: not yet).
  int64_t ended_at(int64_t job) {
    for (const auto& e : read_ledgers({ledger}))
      if (e.job == job && e.delta < 0)
        return e.at_ms;
    return 0;
  }
};

int64_t enqueue_sleeper(store& db) {
  new_job j;
  j.type = "sleeper";
  return db.enqueue_one(j).id;
}

int sleepers_running() {
  auto r = run({"/usr/bin/pgrep", "-f", "^/bin/sleep 61"});
  return r.exit_code == 0 ? static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n')) : 0;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cluster_control, pg_fixture)

BOOST_AUTO_TEST_CASE(a_cancel_on_any_node_ends_the_owners_handler_at_once) {
  proxied_pair nodes;
  BOOST_REQUIRE(nodes.await_links());
  auto job = enqueue_sleeper(db);
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 1
           && sleepers_running() == 1;
  }, 10s));
  auto res = post(*nodes.a, "/jobs/" + std::to_string(job) + "/cancel");
  auto replied = now_ms();
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 200, res->body);
  BOOST_REQUIRE(wait_until([&] { return nodes.ended_at(job) > 0; }, 5s));
  auto took = nodes.ended_at(job) - replied;
  BOOST_TEST_MESSAGE("cancel over a link: the handler ended " << took << " ms after the reply");
  // B's heartbeat is 2s away at most; over the link it takes a round trip.
  BOOST_TEST(took < 500);
  BOOST_TEST(wait_until([&] { return sleepers_running() == 0; }, 2s)); // the program is killed
  BOOST_TEST(metric(*nodes.b, "leasehold_cluster_nudges_total") >= 1);
}

BOOST_AUTO_TEST_CASE(with_the_links_cut_a_cancel_arrives_at_the_next_heartbeat) {
  proxied_pair nodes;
  BOOST_REQUIRE(nodes.await_links());
  auto job = enqueue_sleeper(db);
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 1;
  }, 10s));
  nodes.cut();
  BOOST_REQUIRE(wait_until([&] { return !linked(*nodes.a, *nodes.b); }, 3s));
  auto res = post(*nodes.a, "/jobs/" + std::to_string(job) + "/cancel");
  auto replied = now_ms();
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 200, res->body);
  BOOST_REQUIRE(wait_until([&] { return nodes.ended_at(job) > 0; }, 6s));
  auto took = nodes.ended_at(job) - replied;
  BOOST_TEST_MESSAGE("cancel with links cut: the handler ended " << took << " ms after");
  BOOST_TEST(took < 2000 + 500); // B's heartbeat interval, and a little
  BOOST_TEST(metric(*nodes.b, "leasehold_cluster_nudges_total") == 0);
  BOOST_TEST(wait_until([&] { return sleepers_running() == 0; }, 2s));
}

BOOST_AUTO_TEST_CASE(a_drain_through_another_node_gives_back_what_waits_and_exits_zero) {
  for (bool cut : {false, true}) {
    BOOST_TEST_CONTEXT((cut ? "links cut" : "links up")) {
      db.execute("DELETE FROM leasehold.jobs; DELETE FROM leasehold.job_runs");
      proxied_pair nodes{{"--concurrency", "1", "--prefetch", "5", "--prefetch-horizon", "0ms"}};
      BOOST_REQUIRE(nodes.await_links());
      enqueue_sleeps(db, 6, 1500, "sleep");
      // B runs one and holds the rest claimed ahead (A serves "other").
      BOOST_REQUIRE(wait_until([&] {
        return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 6;
      }, 10s));
      auto b_id = worker_of(*nodes.b);
      if (cut) {
        nodes.cut();
        BOOST_REQUIRE(wait_until([&] { return !linked(*nodes.a, *nodes.b); }, 3s));
      }
      auto res = post(*nodes.a, "/workers/" + b_id + "/drain");
      auto asked = std::chrono::steady_clock::now();
      BOOST_REQUIRE(res);
      BOOST_TEST(res->status == 202, res->body);
      BOOST_TEST(nodes.b->wait(10000) == 0);
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - asked).count();
      BOOST_TEST_MESSAGE("drained and exited " << took << " ms after the request");
      // What ran finished (over the link: the one job running when asked;
      // without, maybe one more before the heartbeat); the rest are queued
      // again, unstarted, and nothing is left running.
      auto done = count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'");
      BOOST_TEST(done >= 1);
      if (!cut)
        BOOST_TEST(done == 1);
      BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'queued' "
                       "AND attempts = 0") == 6 - done);
      BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 0);
      BOOST_TEST(value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '"
                       + b_id + "'") == "STOPPED");
      // Over the link: at once (the job's 1.5s); without: the heartbeat too.
      BOOST_TEST(took < (cut ? 1500 + 2000 + 1500 : 1500 + 1500));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_drain_needs_the_token_and_a_live_worker) {
  proxied_pair nodes;
  BOOST_REQUIRE(wait_until([&] { return !http_address(*nodes.a).empty(); }, 15s));
  auto res = post(*nodes.a, "/workers/no-such-worker/drain");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 404, res->body);
  // A stopped one too: drain B, then ask again.
  BOOST_REQUIRE(wait_until([&] { return !worker_of(*nodes.b).empty(); }, 15s));
  auto b_id = worker_of(*nodes.b);
  BOOST_TEST(post(*nodes.a, "/workers/" + b_id + "/drain")->status == 202);
  BOOST_TEST(nodes.b->wait(10000) == 0);
  BOOST_TEST(post(*nodes.a, "/workers/" + b_id + "/drain")->status == 404);
  // Without the token: refused, and nothing recorded.
  auto address = http_address(*nodes.a);
  httplib::Client anon{"127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1))};
  auto refused = anon.Post(("/workers/" + worker_of(*nodes.a) + "/drain").c_str(), "", "text/plain");
  BOOST_REQUIRE(refused);
  BOOST_TEST(refused->status == 401);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances WHERE worker_id = '"
                   + worker_of(*nodes.a) + "' AND drain_requested_at IS NOT NULL") == 0);
}

BOOST_AUTO_TEST_CASE(a_queue_paused_on_one_node_is_told_to_the_others_over_links) {
  proxied_pair nodes;
  BOOST_REQUIRE(nodes.await_links());
  BOOST_REQUIRE(wait_until([&] {
    return metric(*nodes.b, "leasehold_cluster_nudges_total") == 0;
  }, 5s));
  auto res = post(*nodes.a, "/queues/default/pause");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 200, res->body);
  BOOST_TEST(wait_until([&] {
    return metric(*nodes.b, "leasehold_cluster_nudges_total") >= 1;
  }, 1s));
  enqueue_sleeps(db, 3, 10, "sleep");
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'queued'") == 3);
  // With the links cut, a resume still reaches B (NOTIFY, then its poll).
  nodes.cut();
  BOOST_REQUIRE(wait_until([&] { return !linked(*nodes.a, *nodes.b); }, 3s));
  auto nudges = metric(*nodes.b, "leasehold_cluster_nudges_total");
  res = post(*nodes.a, "/queues/default/resume");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 200, res->body);
  BOOST_TEST(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'succeeded'") == 3;
  }, 5s));
  BOOST_TEST(metric(*nodes.b, "leasehold_cluster_nudges_total") == nudges);
}

BOOST_AUTO_TEST_SUITE_END()
