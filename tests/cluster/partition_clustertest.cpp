// A network cut between one node and Postgres, through a fault_proxy: node A
// reaches the database only through the proxy, node B directly. A silent
// partition longer than A's stale threshold costs A its registration and its
// attempts, which B rescues; once it heals, A's late writes are refused and
// A goes on under a fresh worker id. A reset of A's connections costs nothing.
// And a cut that acknowledges nothing (a network namespace whose packets are
// dropped): a statement sent into it is given up in about 20s.
#include <chrono>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

long ms_since(steady::time_point t) {
  return static_cast<long>(
    std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count());
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(partition, pg_fixture)

BOOST_AUTO_TEST_CASE(a_node_cut_off_past_its_stale_threshold_is_replaced_and_comes_back) {
  fault_proxy proxy{dsn_port(test_dsn())};
  enqueue_sleeps(db, 4, 6000);
  auto a = start_node({"--concurrency", "4", "--log-level", "debug"},
                      dsn_with_port(test_dsn(), proxy.port()));
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 4;
  }, 10s));
  auto old_id = value("SELECT DISTINCT locked_by FROM leasehold.jobs");
  // B watches the database for a while first, so it may judge A.
  auto b = start_node({"--concurrency", "4"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.worker_instances WHERE status = 'RUNNING'") == 2;
  }, 10s));
  BOOST_TEST_MESSAGE("A holds " << proxy.connections() << " connections through the proxy");

  proxy.blackhole();
  auto cut = steady::now();
  long rescued_ms = -1, revoked_ms = -1;
  auto rescued = [&] {
    return count("SELECT count(*) FROM leasehold.all_jobs WHERE locked_by IS DISTINCT FROM '"
                 + old_id + "'") == 4;
  };
  auto revoked = [&] {
    return value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '" + old_id
                 + "'") == "STOPPED";
  };
  // 7s: almost 3x the stale threshold, and A's attempts end meanwhile.
  while (ms_since(cut) < 7000) {
    if (rescued_ms < 0 && rescued())
      rescued_ms = ms_since(cut);
    if (revoked_ms < 0 && revoked())
      revoked_ms = ms_since(cut);
    std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST_MESSAGE("A revoked " << revoked_ms << " ms and its jobs rescued " << rescued_ms
                     << " ms into the partition");
  BOOST_TEST(revoked_ms >= 2500);
  BOOST_TEST(rescued_ms >= 1500);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE worker_id = '" + old_id
                   + "' AND outcome = 'expired'") == 4);
  // A's handlers have finished by now: their outcomes wait on the cut link.
  BOOST_TEST(log_lines(*a, "job succeeded") == 0);

  proxy.pass();
  auto healed = steady::now();
  auto pid = std::to_string(a->pid());
  auto new_id_sql = "SELECT worker_id FROM leasehold.worker_instances WHERE pid = " + pid
                    + " AND status = 'RUNNING' AND worker_id <> '" + old_id + "'";
  BOOST_REQUIRE(wait_until([&] { return !value(new_id_sql).empty(); }, 20s));
  auto reregistered_ms = ms_since(healed);
  auto new_id = value(new_id_sql);
  BOOST_TEST_MESSAGE("A registered again " << reregistered_ms << " ms after the heal");
  // It goes on: new work is claimed and run under the fresh worker id.
  enqueue_sleeps(db, 8, 100);
  BOOST_TEST(wait_until([&] { return succeeded() == 12; }, 20s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE worker_id = '" + new_id
                   + "' AND outcome = 'succeeded'") > 0);

  // A's late writes were refused: nothing under the old id but the expiries.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE worker_id = '" + old_id
                   + "' AND outcome <> 'expired'") == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs r JOIN leasehold.worker_instances w"
                   " USING (worker_id) WHERE r.worker_id = '" + old_id
                   + "' AND r.finished_at > w.stopped_at") == 0);
  // Each of A's finished attempts ended as lost, whether the refusal or the
  // news of the revocation reached it first (only the former is logged).
  BOOST_TEST_MESSAGE("late outcomes refused, logged by A: "
                     << log_lines(*a, "outcome rejected: lease no longer held"));
  // Every job succeeded exactly once.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 12);
  BOOST_TEST(count("SELECT count(DISTINCT job_id) FROM leasehold.job_runs"
                   " WHERE outcome = 'succeeded'") == 12);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 0);
  // A never exited, and says what happened.
  BOOST_TEST(a->wait(0) == -1, a->log());
  BOOST_TEST(b->wait(0) == -1, b->log());
  auto health = node_health(*a);
  auto j = nlohmann::json::parse(health, nullptr, false);
  BOOST_TEST(j["node"]["reregistrations"] == 1, health);
  BOOST_TEST(j["node"]["worker_id"] == new_id, health);
  BOOST_TEST(j["supervised_failures"]["ownership_lost"] == 4, health);
}

BOOST_AUTO_TEST_CASE(a_reset_of_every_connection_mid_work_costs_nothing) {
  fault_proxy proxy{dsn_port(test_dsn())};
  enqueue_sleeps(db, 4, 3000);
  auto a = start_node({"--concurrency", "4"}, dsn_with_port(test_dsn(), proxy.port()));
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 4;
  }, 10s));
  auto a_id = value("SELECT DISTINCT locked_by FROM leasehold.jobs");
  auto b = start_node({"--concurrency", "4"});
  std::this_thread::sleep_for(1000ms);
  auto held = proxy.connections();
  proxy.reset();
  BOOST_TEST_MESSAGE("reset " << held << " connections of A");
  BOOST_TEST(held >= 3);
  BOOST_TEST(wait_until([&] { return succeeded() == 4; }, 15s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'"
                   " AND attempt = 1 AND worker_id = '" + a_id + "'") == 4);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome <> 'succeeded'") == 0);
  BOOST_TEST(a->wait(0) == -1, a->log());
  BOOST_TEST(b->wait(0) == -1, b->log());
  BOOST_TEST(value("SELECT status FROM leasehold.worker_instances WHERE worker_id = '" + a_id
                   + "'") == "RUNNING");
  BOOST_TEST(log_lines(*a, "database connection lost") >= 1);
}

// The proxy's kernel acknowledges every byte the blackhole holds; a real cut
// does not, and then no keepalive is sent while a statement waits for its
// answer. The code before the TCP user timeout kept such a statement for the
// kernel's ~15 minutes of retransmissions: after a 27s cut it went on only at
// the retransmission 51s in, registering again 24-27s after the heal.
BOOST_AUTO_TEST_CASE(a_statement_sent_into_a_real_cut_is_given_up_in_about_20s) {
  auto socket_dir = value("SELECT split_part(current_setting('unix_socket_directories'), ',', 1)");
  BOOST_REQUIRE_MESSAGE(!socket_dir.empty(), "Postgres has no unix socket for the relay");
  isolated_node a{{"--concurrency", "2"}, socket_dir, dsn_port(test_dsn())};
  auto pid = std::to_string(a.node().pid());
  auto id_sql = "SELECT worker_id FROM leasehold.worker_instances WHERE status = 'RUNNING'"
                " AND pid = " + pid;
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return !value(id_sql).empty(); }, 10s), a.node().log());
  auto old_id = value(id_sql);
  auto b = start_node({"--concurrency", "2"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.worker_instances WHERE status = 'RUNNING'") == 2;
  }, 10s));
  a.cut();
  auto cut = steady::now();
  BOOST_TEST(wait_until([&] { return value(id_sql).empty(); }, 10s)); // B revoked A
  // A's heartbeat statement waits on the cut link; the TCP user timeout
  // (20s) ends it, while idle connections go by keepalive.
  bool lost = wait_until([&] { return log_lines(a.node(), "database connection lost") > 0; },
                         std::chrono::milliseconds{25000 - ms_since(cut)});
  BOOST_TEST(lost, "A still waits on its statement 25s into the cut");
  if (lost)
    BOOST_TEST_MESSAGE("A gave up its connection " << ms_since(cut) << " ms into the cut");
  // Heal between the retransmissions at ~25s and ~51s.
  std::this_thread::sleep_for(std::chrono::milliseconds{27000 - ms_since(cut)});
  a.heal();
  auto healed = steady::now();
  BOOST_TEST(wait_until([&] { return !value(id_sql).empty(); }, 30s));
  auto reregistered_ms = ms_since(healed);
  BOOST_TEST_MESSAGE("A registered again " << reregistered_ms << " ms after the heal");
  BOOST_TEST(reregistered_ms < 10000);
  BOOST_TEST(value(id_sql) != old_id);
  BOOST_TEST(a.node().wait(0) == -1, a.node().log());
  BOOST_TEST(b->wait(0) == -1, b->log());
}

BOOST_AUTO_TEST_SUITE_END()
