// Concurrency keys (migration 023): jobs enqueued with --concurrency-key run
// at most the queue's per_key at a time per key (1 unless set), however
// claims on many nodes interleave; jobs without a key and other keys are
// not held up. Real Postgres, real node processes, checked through their
// execution ledgers.
#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <thread>

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/ledgers.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

struct keys_fixture : pg_fixture {
  ~keys_fixture() { db.execute("TRUNCATE leasehold.queues"); }

  // `n` sleep jobs of `ms`, key k0..k<keys-1> in turn ("" keys: none).
  void enqueue_keyed(int n, int ms, int keys, const std::string& prefix = "k") {
    std::vector<new_job> jobs(n);
    for (int i = 0; i < n; ++i) {
      jobs[i].type = "sleep";
      jobs[i].payload = R"({"ms": )" + std::to_string(ms) + "}";
      if (keys > 0)
        jobs[i].concurrency_key = prefix + std::to_string(i % keys);
    }
    db.enqueue_many(jobs);
  }

  // Each job's key ("" for none), live or succeeded.
  std::map<int64_t, std::string> keys_of_jobs() {
    std::map<int64_t, std::string> out;
    auto rows = nlohmann::json::parse(value(
      "SELECT coalesce(jsonb_agg(jsonb_build_array(id, coalesce(concurrency_key, ''))), '[]')"
      " FROM leasehold.all_jobs"));
    for (const auto& r : rows)
      out[r[0].get<int64_t>()] = r[1].get<std::string>();
    return out;
  }

  // The most jobs of one key held at once right now.
  int64_t most_held_per_key() {
    return count("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM leasehold.jobs"
                 " WHERE status = 'running' AND concurrency_key IS NOT NULL"
                 " GROUP BY concurrency_key) AS k");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(queue_keys, keys_fixture)

BOOST_AUTO_TEST_CASE(six_nodes_never_run_more_than_per_key_of_one_key) {
  constexpr int keyed = 800, keys = 4, plain = 200, sleep_ms = 15, per_key = 2;
  auto r = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "limit", "default",
                "--per-key", std::to_string(per_key)});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  enqueue_keyed(keyed, sleep_ms, keys);
  enqueue_keyed(plain, sleep_ms, 0);
  int64_t most_held = 0;
  const auto ran = run_nodes("keys", 6, {"--concurrency", "4"}, [&] {
    most_held = std::max(most_held, most_held_per_key());
    return succeeded() == keyed + plain;
  }, 90s);
  BOOST_TEST(ran.done);
  const auto& events = ran.events;
  const auto seconds = ran.seconds;
  auto key_of = keys_of_jobs();
  BOOST_TEST(std::count_if(events.begin(), events.end(),
                           [](const ledger_event& e) { return e.delta > 0; })
             == keyed + plain);
  for (int k = 0; k < keys; ++k) {
    auto key = "k" + std::to_string(k);
    auto overlap = max_overlap(events, [&](const ledger_event& e) { return key_of[e.job] == key; });
    BOOST_TEST_MESSAGE("key " << key << ": at most " << overlap << " at once");
    BOOST_TEST(overlap <= per_key, key);
    BOOST_TEST(overlap == per_key, key); // used, not just respected
  }
  // Jobs without a key are not limited: more of them than per_key ran at once.
  auto plain_overlap = max_overlap(events, [&](const ledger_event& e) { return key_of[e.job].empty(); });
  BOOST_TEST(plain_overlap > per_key);
  BOOST_TEST(most_held <= per_key);
  // Each key's 200 jobs of 15 ms, 2 at a time, alongside the others: 1.5 s ideal.
  BOOST_TEST_MESSAGE(keyed + plain << " jobs in " << seconds << " s");
  BOOST_TEST(seconds < 20.0);
  auto verify = run({leasehold_bin(), "--database-url", test_dsn(), "verify"});
  BOOST_TEST(verify.exit_code == 0, verify.out << verify.err);
}

// The claim itself, many times: 8 connections race 5 claims each for a
// queue of 5 keys without a per_key setting (1 each).
BOOST_AUTO_TEST_CASE(racing_claims_never_hold_two_of_one_key) {
  for (int w = 0; w < 8; ++w)
    register_worker(db, "w" + std::to_string(w));
  enqueue_keyed(400, 1, 5);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::thread> claimers;
    for (int w = 0; w < 8; ++w)
      claimers.emplace_back([w] {
        store s{test_dsn()};
        for (int i = 0; i < 5; ++i)
          s.claim("w" + std::to_string(w), "default", 3, {"sleep"});
      });
    for (auto& c : claimers)
      c.join();
    BOOST_TEST(most_held_per_key() == 1, "round " << round);
    BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 5,
               "round " << round);
    db.execute("UPDATE leasehold.jobs SET status = 'queued', locked_by = NULL,"
               " attempts = 0 WHERE status = 'running'");
  }
}

// A key's backlog does not hold up the keys and the jobs without a key
// behind it: 40 jobs of one key first, then one of another and one without.
BOOST_AUTO_TEST_CASE(a_full_key_does_not_hold_up_the_jobs_behind_it) {
  register_worker(db, "w0");
  enqueue_keyed(40, 1, 1, "busy");
  enqueue_keyed(1, 1, 1, "other");
  enqueue_keyed(1, 1, 0);
  auto first = db.claim("w0", "default", 10, {"sleep"});
  BOOST_TEST(first.size() == 3u); // one of busy, other, and the plain one
  BOOST_TEST(db.claim("w0", "default", 10, {"sleep"}).empty()); // busy is full
  BOOST_TEST(most_held_per_key() == 1);
  // A freed place is used at once: busy's running job ends.
  db.execute("DELETE FROM leasehold.jobs WHERE status = 'running' AND concurrency_key = 'busy0'");
  BOOST_TEST(db.claim("w0", "default", 10, {"sleep"}).size() == 1u);
}

// A node killed while it runs a key's one job: the key's place comes back
// when its lease TTL (1.5 s here) has run out and a reaper rescued the job,
// not before (it might still be running, for all the others know).
BOOST_AUTO_TEST_CASE(a_killed_nodes_key_place_comes_back_after_its_ttl_not_before) {
  enqueue_keyed(1, 3000, 1, "a"); // claimed first: it holds key a's one place
  enqueue_keyed(3, 10, 1, "a");
  const auto ledger = ledger_paths("key-crash", 1);
  auto first = start_node({"--concurrency", "2"});
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 1;
  }, 20s));
  first->signal(SIGKILL);
  first->wait(5000);
  const auto killed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  auto second = start_node({"--concurrency", "2", "--execution-ledger", ledger[0]});
  BOOST_TEST(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 4;
  }, 30s));
  second->signal(SIGTERM);
  BOOST_TEST(second->wait(15000) == 0);
  const auto events = read_ledgers(ledger);
  ::unlink(ledger[0].c_str());
  BOOST_REQUIRE(!events.empty());
  const int64_t after_kill = events.front().at_ms - killed_ms;
  BOOST_TEST_MESSAGE("first start of key a " << after_kill << " ms after the kill");
  // Its last renewal was at most one heartbeat (300 ms) before the kill.
  BOOST_TEST(after_kill >= 1500 - 300);
  BOOST_TEST(after_kill <= 6000);
  BOOST_TEST(max_overlap(events) == 1);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'expired'") == 1);
}

BOOST_AUTO_TEST_CASE(a_bad_key_is_refused_whole) {
  auto empty = run({leasehold_bin(), "--database-url", test_dsn(), "enqueue", "sleep",
                    "--concurrency-key", ""});
  BOOST_TEST(empty.exit_code != 0);
  BOOST_TEST(empty.err.find("--concurrency-key") != std::string::npos, empty.err);
  auto file = "/tmp/leasehold-keys-" + std::to_string(::getpid()) + ".ndjson";
  {
    std::ofstream out{file};
    out << R"({"type": "sleep", "concurrency_key": "a"})" << "\n"
        << R"({"type": "sleep", "concurrency_key": 7})" << "\n";
  }
  auto bulk = run({leasehold_bin(), "--database-url", test_dsn(), "enqueue", "--file", file});
  ::unlink(file.c_str());
  BOOST_TEST(bulk.exit_code != 0);
  BOOST_TEST(bulk.err.find("2:") != std::string::npos, bulk.err);
  BOOST_TEST(bulk.err.find("concurrency_key") != std::string::npos, bulk.err);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 0); // nothing half-written
  for (const char* bad : {"-1", "1000001", "x"}) {
    auto r = run({leasehold_bin(), "--database-url", test_dsn(), "queue", "limit", "default",
                  "--per-key", bad});
    BOOST_TEST(r.exit_code != 0, bad);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  }
}

BOOST_AUTO_TEST_SUITE_END()
