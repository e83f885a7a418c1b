// Pausing a queue (migration 021) under load, with real node processes: once
// `leasehold queue pause` has returned, no claim of the queue commits; jobs
// claimed ahead are given back without using up attempts; running ones
// finish; the pause survives a restart; resume (over HTTP) picks up at once.
// Real Postgres, real nodes.
#include <algorithm>
#include <csignal>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_http.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* token = "pause-test-token";

struct pause_fixture : pg_fixture {
  ~pause_fixture() {
    // A paused default queue would stop every later suite's jobs.
    db.execute("TRUNCATE leasehold.queues; DROP TABLE IF EXISTS public.claimed_at_pause");
  }

  // Pauses through the CLI; when it returns, the pause is acknowledged:
  // records which jobs had been claimed by then.
  void pause() {
    auto r = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "pause", "default"});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    db.execute("DROP TABLE IF EXISTS public.claimed_at_pause;"
               "CREATE TABLE public.claimed_at_pause AS"
               " SELECT id, attempts FROM leasehold.all_jobs WHERE attempts > 0");
  }

  // Claims committed after the pause was acknowledged: a job claimed since,
  // or claimed again (a higher attempt).
  int64_t claims_since_pause() {
    return count("SELECT count(*) FROM leasehold.all_jobs AS a"
                 " LEFT JOIN public.claimed_at_pause AS c ON c.id = a.id"
                 " WHERE a.attempts > coalesce(c.attempts, 0)");
  }

  int64_t running() { return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'"); }
  int64_t succeeded() {
    return count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'");
  }
};

int port_of(const background_process& node) {
  auto address = http_address(node);
  return address.empty() ? 0 : std::stoi(address.substr(address.rfind(':') + 1));
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(queue_pause, pause_fixture)

BOOST_AUTO_TEST_CASE(a_pause_under_load_holds_across_a_restart_and_resume_picks_up) {
  enqueue_sleeps(db, 3000, 20);
  std::vector<std::unique_ptr<background_process>> nodes;
  for (int i = 0; i < 2; ++i)
    nodes.push_back(start_node({"--concurrency", "8", "--http-token", token}));
  BOOST_REQUIRE(wait_until([&] { return succeeded() >= 300; }, 30s));
  pause();
  // Running attempts finish and jobs claimed ahead go back: nothing is held
  // within a second or so, and nothing was claimed since the pause.
  BOOST_TEST(wait_until([&] { return running() == 0; }, 5s), running() << " still held");
  std::this_thread::sleep_for(1s);
  BOOST_TEST(claims_since_pause() == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs AS r, leasehold.queues AS q"
                   " WHERE r.started_at > q.paused_at + interval '1 second'") == 0);
  int given_back = 0;
  for (auto& n : nodes)
    given_back += log_lines(*n, "buffered jobs given back");
  BOOST_TEST(given_back >= 1, "no node had jobs claimed ahead to give back");
  // Given back without using up an attempt: every waiting job is fresh.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE attempts > 0") == 0);
  auto done_at_pause = succeeded();
  BOOST_TEST(done_at_pause < 3000);
  // /health says so, and what it holds back.
  auto health = node_health(*nodes[0]);
  BOOST_TEST(health.find("QUEUE_PAUSED") != std::string::npos, health);
  BOOST_TEST(health.find("with " + std::to_string(3000 - done_at_pause) + " due jobs")
             != std::string::npos, health);

  // Restarted nodes stay paused.
  for (auto& n : nodes)
    n->signal(SIGTERM);
  for (auto& n : nodes)
    BOOST_TEST(n->wait(15000) == 0);
  nodes.clear();
  nodes.push_back(start_node({"--concurrency", "8", "--http-token", token}));
  BOOST_REQUIRE(wait_until([&] { return port_of(*nodes[0]) != 0; }, 20s));
  std::this_thread::sleep_for(2s);
  BOOST_TEST(claims_since_pause() == 0);
  BOOST_TEST(succeeded() == done_at_pause);
  auto listed = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "list", "--json"});
  auto queues = nlohmann::json::parse(listed.out);
  BOOST_REQUIRE(queues.size() == 1u);
  BOOST_TEST(queues[0]["paused"] == true);
  BOOST_TEST(queues[0]["due"] == 3000 - done_at_pause);

  // Resume over HTTP: a write, so it needs the token.
  auto port = port_of(*nodes[0]);
  auto denied = raw_request(port, "POST /queues/default/resume HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Length: 0\r\nConnection: close\r\n\r\n");
  BOOST_TEST(denied.status == 401);
  auto resumed = raw_request(port, std::string{"POST /queues/default/resume HTTP/1.1\r\nHost: x\r\n"
                                               "Authorization: Bearer "} + token
                                     + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  BOOST_TEST(resumed.status == 200, resumed.body);
  BOOST_TEST(nlohmann::json::parse(resumed.body)["paused"] == false);
  auto t0 = std::chrono::steady_clock::now();
  BOOST_TEST(wait_until([&] { return succeeded() > done_at_pause; }, 5s));
  BOOST_TEST_MESSAGE("first job after resume in "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - t0).count() << " ms");
  BOOST_TEST(wait_until([&] { return succeeded() == 3000; }, 30s));
  // Each job ran once: pausing used up no attempt.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE attempt <> 1") == 0);
  nodes[0]->signal(SIGTERM);
  BOOST_TEST(nodes[0]->wait(15000) == 0);
}

// The race, many times: pause while two nodes claim as fast as they can;
// after each acknowledged pause not one more claim commits.
BOOST_AUTO_TEST_CASE(no_claim_commits_after_any_of_many_pauses) {
  enqueue_sleeps(db, 60000, 1);
  std::vector<std::unique_ptr<background_process>> nodes;
  for (int i = 0; i < 2; ++i)
    nodes.push_back(start_node({"--concurrency", "16"}));
  BOOST_REQUIRE(wait_until([&] { return succeeded() >= 500; }, 30s));
  for (int round = 0; round < 12; ++round) {
    pause();
    std::this_thread::sleep_for(300ms);
    BOOST_TEST(claims_since_pause() == 0, "round " << round);
    auto r = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "resume", "default"});
    BOOST_REQUIRE(r.exit_code == 0);
    auto before = succeeded();
    BOOST_TEST(wait_until([&] { return succeeded() > before + 100; }, 10s), "round " << round);
  }
  for (auto& n : nodes)
    n->signal(SIGTERM);
  for (auto& n : nodes)
    BOOST_TEST(n->wait(15000) == 0);
}

// Names are checked like everywhere else; a queue nobody knows can be
// paused ahead of its first job.
BOOST_AUTO_TEST_CASE(hostile_queue_names_are_refused_in_one_line) {
  for (const auto& bad : {std::string{}, std::string(201, 'q'), std::string{"a\nb"}}) {
    auto r = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "pause", bad});
    BOOST_TEST(r.exit_code != 0);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.queues") == 0);
  auto r = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "pause", "future"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(value("SELECT paused FROM leasehold.queues WHERE name = 'future'") == "t");
}

// The linearization itself, made visible: a claim slowed down inside its
// statement (a trigger sleeps) is under way when the pause comes. The pause
// waits for it, so the claim has committed by the time the pause returns;
// and a claim after the pause gets nothing.
BOOST_AUTO_TEST_CASE(a_pause_waits_for_the_claim_under_way_and_refuses_the_next) {
  db.execute("CREATE OR REPLACE FUNCTION public.slow_claim() RETURNS trigger LANGUAGE plpgsql"
             " AS $$ BEGIN PERFORM pg_sleep(0.6); RETURN NEW; END $$;"
             "CREATE OR REPLACE TRIGGER slow_claim BEFORE UPDATE ON leasehold.jobs FOR EACH ROW"
             " WHEN (NEW.type = 'slow_claim' AND NEW.status = 'running'"
             " AND OLD.status = 'queued') EXECUTE FUNCTION public.slow_claim()");
  register_worker(db, "w");
  enqueue(db, "slow_claim");
  std::vector<claimed_job> claimed;
  std::thread claimer{[&] { claimed = store{test_dsn()}.claim("w", "default", 1, {"slow_claim"}); }};
  std::this_thread::sleep_for(200ms); // the claim is inside its statement
  auto t0 = std::chrono::steady_clock::now();
  store{test_dsn()}.set_queue_paused("default", true);
  auto waited = std::chrono::steady_clock::now() - t0;
  // Acknowledged: the claim under way has committed, nothing more will.
  auto held_at_ack = count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'");
  claimer.join();
  db.execute("DROP TRIGGER slow_claim ON leasehold.jobs; DROP FUNCTION public.slow_claim()");
  BOOST_TEST(claimed.size() == 1u);
  BOOST_TEST(held_at_ack == 1, "the pause returned before the claim under way committed");
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() >= 200);
  enqueue(db, "slow_claim");
  BOOST_TEST(db.claim("w", "default", 5, {"slow_claim"}).empty());
  store{test_dsn()}.set_queue_paused("default", false);
  BOOST_TEST(db.claim("w", "default", 5, {"slow_claim"}).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
