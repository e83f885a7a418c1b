// Retention (migration 025): a pass deletes exactly the expired history;
// chains and runs go whole or stay whole; a job a unique key still names
// stays; a dry run counts what a real pass then deletes; one pruner at a
// time; bad retention values are refused. Real Postgres, real processes.
#include <algorithm>
#include <future>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

constexpr int64_t day = 86400000;

retention_policy policy(int32_t batch = 1000) {
  retention_policy p;
  p.succeeded_ms = 7 * day;
  p.dead_ms = 30 * day;
  p.runs_ms = 30 * day;
  p.instances_ms = 7 * day;
  p.violations_ms = 30 * day;
  p.batch = batch;
  return p;
}

std::string ago(int days) {
  return "now() - interval '" + std::to_string(days) + " days'";
}

std::string text_or_null(const std::string& s) { return s.empty() ? "NULL" : "'" + s + "'"; }

struct retention_fixture : pg_fixture {
  // A succeeded job as a completion leaves it: one failed attempt's row and
  // the succeeded attempt's row that carries the job (migration 011).
  void succeeded(int64_t id, int days, const std::string& chain = "",
                 const std::string& run = "", const std::string& key = "") {
    db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at,"
               " finished_at, outcome, error) VALUES (" + std::to_string(id) + ", 1, 'w', "
               + ago(days) + ", " + ago(days) + ", 'failed', 'first try')");
    db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at,"
               " finished_at, outcome, type, queue, priority, payload, max_attempts, run_at,"
               " correlation_id, run_id, partition_key, created_at) VALUES ("
               + std::to_string(id) + ", 2, 'w', " + ago(days) + ", " + ago(days)
               + ", 'succeeded', 't', 'default', 0, '{}', 25, " + ago(days) + ", "
               + text_or_null(chain) + ", " + (run.empty() ? "NULL" : run) + ", "
               + text_or_null(key) + ", " + ago(days) + ")");
  }

  // A job still in the jobs table: queued (days < 0) or failed/cancelled.
  void job(int64_t id, const std::string& status, int days, const std::string& chain = "",
           const std::string& run = "", const std::string& key = "") {
    const bool ended = status == "failed" || status == "cancelled";
    db.execute("INSERT INTO leasehold.jobs (id, type, status, attempts, finished_at,"
               " correlation_id, run_id, partition_key) OVERRIDING SYSTEM VALUE VALUES ("
               + std::to_string(id) + ", 't', '" + status + "', " + (ended ? "1" : "0") + ", "
               + (ended ? ago(days) : "NULL") + ", " + text_or_null(chain) + ", "
               + (run.empty() ? "NULL" : run) + ", " + text_or_null(key) + ")");
    if (ended)
      db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at,"
                 " finished_at, outcome, error) VALUES (" + std::to_string(id) + ", 1, 'w', "
                 + ago(days) + ", " + ago(days) + ", 'failed', 'boom')");
  }

  void add_run(int64_t id, const std::string& chain, int completed_days_ago, int expected) {
    db.execute("INSERT INTO leasehold.runs (id, type, expected, correlation_id, completed_at)"
               " OVERRIDING SYSTEM VALUE VALUES (" + std::to_string(id) + ", 't', "
               + std::to_string(expected) + ", '" + chain + "', "
               + (completed_days_ago < 0 ? "NULL" : ago(completed_days_ago)) + ")");
  }

  bool exists(int64_t id) {
    return count("SELECT count(*) FROM leasehold.all_jobs WHERE id = " + std::to_string(id))
           > 0;
  }
  int64_t rows_of(int64_t id) {
    return count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + std::to_string(id));
  }
  int64_t history_rows() {
    return count("SELECT (SELECT count(*) FROM leasehold.jobs)"
                 " + (SELECT count(*) FROM leasehold.job_runs)"
                 " + (SELECT count(*) FROM leasehold.runs)"
                 " + (SELECT count(*) FROM leasehold.worker_instances)"
                 " + (SELECT count(*) FROM leasehold.policy_violations)");
  }

  // A mix of every kind, some expired, some not.
  void mixed_history() {
    succeeded(101, 10);           // goes
    succeeded(195, 1);            // stays (young jobs have the newest ids)
    job(103, "failed", 40);       // goes
    job(104, "failed", 10);       // stays (dead are kept 30 days)
    job(105, "cancelled", 40);    // goes
    job(106, "queued", -1);       // stays
    succeeded(110, 10);           // chain job-110: root and child both expired, go
    job(111, "failed", 40, "job-110");
    succeeded(120, 10);           // chain job-120: a child still queued, stays whole
    job(121, "queued", -1, "job-120");
    succeeded(130, 10, "c-130");  // chain c-130: one member too young, stays whole
    succeeded(196, 2, "c-130");
    add_run(1, "run-1", 40, 2);       // completed long ago: goes with both partitions
    succeeded(140, 41, "run-1", "1", "a");
    job(141, "failed", 41, "run-1", "1", "b");
    add_run(2, "run-2", -1, 2);       // one partition still queued: stays whole
    succeeded(150, 41, "run-2", "2", "a");
    job(151, "queued", -1, "run-2", "2", "b");
    add_run(3, "run-3", 10, 1);       // completed 10 days ago: kept 30
    succeeded(160, 11, "run-3", "3", "a");
    db.execute("INSERT INTO leasehold.worker_instances (worker_id, worker_type, status,"
               " hostname, pid, version, last_heartbeat_at, stopped_at) VALUES"
               " ('old-stopped', 'default', 'STOPPED', 'h', 1, 'v', " + ago(9) + ", " + ago(8)
               + "), ('new-stopped', 'default', 'STOPPED', 'h', 2, 'v', now(), now()),"
               " ('old-running', 'default', 'RUNNING', 'h', 3, 'v', " + ago(9) + ", NULL)");
    db.execute("INSERT INTO leasehold.policy_violations (job_id, attempt, worker_id, policy,"
               " detail, created_at) VALUES (1, 1, 'w', 'trace', 'x', " + ago(31)
               + "), (2, 1, 'w', 'trace', 'y', now())");
  }
};

void check_mixed_counts(const prune_report& r) {
  BOOST_TEST(r.elected);
  BOOST_TEST(r.succeeded == 3);  // 101, 110, 140
  BOOST_TEST(r.dead == 4);       // 103, 105, 111, 141
  BOOST_TEST(r.runs == 1);
  BOOST_TEST(r.attempts == 10);  // 2 each for 101, 110, 140; 1 each for the dead
  BOOST_TEST(r.instances == 1);
  BOOST_TEST(r.violations == 1);
}

nlohmann::json prune_cli(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {leasehold_bin(), "--database-url", test_dsn(), "prune",
                                   "--json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = run(argv);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return nlohmann::json::parse(r.out);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(retention, retention_fixture)

BOOST_AUTO_TEST_CASE(a_pass_deletes_exactly_the_expired_history) {
  mixed_history();
  check_mixed_counts(db.prune(policy(), false));
  for (int64_t gone : {101, 103, 105, 110, 111, 140, 141}) {
    BOOST_TEST(!exists(gone), "job " << gone << " should be gone");
    BOOST_TEST(rows_of(gone) == 0);
  }
  for (int64_t kept : {195, 104, 106, 120, 121, 130, 196, 150, 151, 160})
    BOOST_TEST(exists(kept), "job " << kept << " should be kept");
  BOOST_TEST(rows_of(120) == 2); // a kept job keeps every attempt's row
  BOOST_TEST(value("SELECT string_agg(id::text, ',' ORDER BY id) FROM leasehold.runs") == "2,3");
  BOOST_TEST(value("SELECT string_agg(worker_id, ',' ORDER BY worker_id)"
                   " FROM leasehold.worker_instances") == "new-stopped,old-running");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.policy_violations") == 1);
  // Nothing more is expired: a second pass deletes nothing.
  auto again = db.prune(policy(), false);
  BOOST_TEST(again.succeeded + again.dead + again.runs + again.attempts + again.instances
               + again.violations == 0);
}

BOOST_AUTO_TEST_CASE(a_chain_goes_whole_only_when_every_member_is_expired) {
  succeeded(1, 10);                  // job-1: its child died 10 days ago, kept 30
  job(2, "failed", 10, "job-1");
  succeeded(3, 10);                  // job-3: grandchild still running
  succeeded(4, 10, "job-3");
  job(5, "queued", -1, "job-3");
  db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = 'w', attempts = 1"
             " WHERE id = 5");
  job(6, "failed", 40);              // job-6: root dead long ago, child succeeded 10 days ago
  succeeded(7, 10, "job-6");
  auto r = db.prune(policy(), false);
  BOOST_TEST(r.succeeded == 1);
  BOOST_TEST(r.dead == 1);
  for (int64_t kept : {1, 2, 3, 4, 5})
    BOOST_TEST(exists(kept), "job " << kept << " should be kept");
  BOOST_TEST(!exists(6));
  BOOST_TEST(!exists(7));
}

BOOST_AUTO_TEST_CASE(a_run_goes_only_with_all_its_partitions) {
  add_run(1, "run-1", 40, 3); // completed, but one partition was retried: running
  succeeded(10, 41, "run-1", "1", "a");
  job(11, "failed", 41, "run-1", "1", "b");
  job(12, "queued", -1, "run-1", "1", "c");
  db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = 'w', attempts = 2"
             " WHERE id = 12");
  add_run(2, "run-2", 40, 2); // on-complete job of the run still queued
  succeeded(20, 41, "run-2", "2", "a");
  succeeded(21, 41, "run-2", "2", "b");
  job(22, "queued", -1, "run-2");
  auto r = db.prune(policy(), false);
  BOOST_TEST(r.runs == 0);
  BOOST_TEST(r.succeeded + r.dead + r.attempts == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 6);
  // The partition ends and the on-complete job succeeds: both runs can go.
  db.execute("UPDATE leasehold.jobs SET status = 'failed', finished_at = " + ago(40)
             + " WHERE id = 12");
  db.execute("DELETE FROM leasehold.jobs WHERE id = 22");
  succeeded(22, 35, "run-2");
  r = db.prune(policy(), false);
  BOOST_TEST(r.runs == 2);
  BOOST_TEST(r.succeeded == 4);
  BOOST_TEST(r.dead == 2);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs") == 0);
}

BOOST_AUTO_TEST_CASE(a_job_named_by_a_held_unique_key_stays) {
  succeeded(1, 100);
  job(2, "failed", 100);
  db.execute("INSERT INTO leasehold.unique_keys (unique_key, job_id) VALUES ('k1', 1), ('k2', 2)");
  auto r = db.prune(policy(), false);
  BOOST_TEST(r.succeeded + r.dead == 0);
  BOOST_TEST(exists(1));
  BOOST_TEST(exists(2));
  // A duplicate enqueue still answers with the holder, which still exists.
  auto dup = db.enqueue_one(new_job{"t", "{}", {}, {}, {}, {}, {}, "k1", "any", {}});
  BOOST_TEST(dup.id == 1);
  BOOST_TEST(dup.duplicate);
  db.execute("DELETE FROM leasehold.unique_keys");
  r = db.prune(policy(), false);
  BOOST_TEST(r.succeeded == 1);
  BOOST_TEST(r.dead == 1);
}

// Regression: a key held for a window (unique_for) used to stay forever,
// and with it the job it named, however old. Past its window no enqueue can
// name the key again: it goes, and its expired job with it.
BOOST_AUTO_TEST_CASE(a_unique_key_whose_window_ended_goes_and_lets_its_job_go) {
  const auto windowed = db.enqueue_one(new_job{"t", "{}", {}, {}, {}, {}, {}, "w", "any", 1000});
  const auto forever = db.enqueue_one(new_job{"t", "{}", {}, {}, {}, {}, {}, "f", "any", {}});
  // Both jobs succeeded long ago, as a completion leaves them.
  for (int64_t id : {windowed.id, forever.id}) {
    db.execute("DELETE FROM leasehold.jobs WHERE id = " + std::to_string(id));
    succeeded(id, 100);
  }
  // Within the window, the key and its job stay; a duplicate gets the job.
  auto dup = db.enqueue_one(new_job{"t", "{}", {}, {}, {}, {}, {}, "w", "any", 1000});
  if (dup.duplicate) { // not when the window turned between the two enqueues
    BOOST_TEST(dup.id == windowed.id);
    db.prune(policy(), false);
    BOOST_TEST(exists(windowed.id));
  }
  std::this_thread::sleep_for(1100ms); // past every window of the test
  const auto r = db.prune(policy(), false);
  BOOST_TEST(r.unique_keys >= 1);
  BOOST_TEST(r.succeeded == 1);
  BOOST_TEST(!exists(windowed.id), "a job named only by a past window's key should go");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.unique_keys WHERE unique_key LIKE 'w@%'")
             == 0);
  // A key without a window is held for good, and keeps its job.
  BOOST_TEST(exists(forever.id));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.unique_keys WHERE unique_key = 'f'") == 1);
}

BOOST_AUTO_TEST_CASE(a_dry_run_counts_what_a_pass_then_deletes_and_deletes_nothing) {
  mixed_history();
  // Small batches: chains and runs span batches, each counted once.
  for (int32_t batch : {1, 2, 1000}) {
    auto before = history_rows();
    auto dry = db.prune(policy(batch), true);
    check_mixed_counts(dry);
    BOOST_TEST(history_rows() == before);
  }
  // Through the CLI too, then the real pass deletes exactly that.
  auto dry = prune_cli({"--dry-run", "--batch", "2"});
  auto real = prune_cli({"--batch", "2"});
  for (const char* kind : {"succeeded", "dead", "runs", "attempt_rows", "instances", "violations",
                           "unique_keys"})
    BOOST_TEST(dry[kind] == real[kind], kind << ": dry " << dry[kind] << ", real " << real[kind]);
  BOOST_TEST(real["succeeded"] == 3);
  BOOST_TEST(prune_cli({"--dry-run"})["succeeded"] == 0);
}

BOOST_AUTO_TEST_CASE(retention_off_keeps_everything) {
  mixed_history();
  auto before = history_rows();
  auto j = prune_cli({"--retain-succeeded", "0", "--retain-dead", "off", "--retain-runs",
                      "forever", "--retain-instances", "0", "--retain-violations", "off"});
  BOOST_TEST(j["elected"] == true);
  BOOST_TEST(history_rows() == before);
  // Shorter retention takes more: the job that succeeded a day ago, and
  // chain c-130 (its young member was 2 days old) whole.
  auto r = prune_cli({"--retain-succeeded", "12h"});
  BOOST_TEST(r["succeeded"] == 6);
  for (int64_t gone : {101, 195, 130, 196})
    BOOST_TEST(!exists(gone), "job " << gone << " should be gone");
}

BOOST_AUTO_TEST_CASE(one_pruner_at_a_time) {
  // Another session holds the pruning lock: this pass does nothing.
  store other{test_dsn()};
  other.execute("SELECT pg_advisory_lock(7811543514654010981)"); // 0x6c682d7072756e65
  mixed_history();
  auto r = db.prune(policy(), false);
  BOOST_TEST(!r.elected);
  BOOST_TEST(r.succeeded + r.dead + r.runs == 0);
  BOOST_TEST(prune_cli({})["elected"] == false);
  other.execute("SELECT pg_advisory_unlock(7811543514654010981)");
  check_mixed_counts(db.prune(policy(), false));
}

BOOST_AUTO_TEST_CASE(three_prune_processes_at_once_one_prunes) {
  // 60,000 expired plain successes: several seconds of batches of 200.
  db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at,"
             " finished_at, outcome, type, queue, priority, payload, max_attempts, run_at,"
             " created_at) SELECT g, 1, 'w', now() - interval '10 days',"
             " now() - interval '10 days', 'succeeded', 't', 'default', 0, '{}', 25,"
             " now() - interval '10 days', now() - interval '10 days'"
             " FROM generate_series(1, 60000) AS g");
  std::vector<std::future<run_result>> procs;
  for (int i = 0; i < 3; ++i)
    procs.push_back(std::async(std::launch::async, [] {
      return run({leasehold_bin(), "--database-url", test_dsn(), "prune", "--json", "--batch",
                  "200"});
    }));
  int64_t total = 0;
  int working = 0;
  for (auto& p : procs) {
    auto r = p.get();
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_TEST(r.err.empty(), r.err);
    auto j = nlohmann::json::parse(r.out);
    total += j["succeeded"].get<int64_t>();
    if (j["succeeded"].get<int64_t>() > 0)
      ++working;
  }
  BOOST_TEST(working == 1);
  BOOST_TEST(total == 60000);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs") == 0);
}

BOOST_AUTO_TEST_CASE(passes_cut_short_by_their_budget_go_on_where_the_last_stopped) {
  // 3,000 old successes whose unique keys keep them, then 10 that may go:
  // passes of one batch each must walk past the kept ones, not start over.
  db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at,"
             " finished_at, outcome, type, queue) SELECT g, 1, 'w', now() - interval '20 days',"
             " now() - interval '20 days' + g * interval '1 s', 'succeeded', 't', 'default'"
             " FROM generate_series(1, 3010) AS g");
  db.execute("INSERT INTO leasehold.unique_keys (unique_key, job_id)"
             " SELECT 'k' || g, g FROM generate_series(1, 3000) AS g");
  auto p = policy(500);
  p.budget_ms = 1; // each pass: one batch
  prune_report total;
  int passes = 0;
  do {
    total += db.prune(p, false);
  } while (total.more && ++passes < 50);
  BOOST_TEST(passes < 50);
  BOOST_TEST(total.succeeded == 10);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs") == 3000);
}

// The share bounds the time in batches: at 2%, a pass rests 49 times each
// batch's own time, so it takes far longer than the same pass at 100%.
BOOST_AUTO_TEST_CASE(a_pass_rests_in_proportion_to_its_batches) {
  auto pass_ms = [&](int32_t share) {
    db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at,"
               " finished_at, outcome, type, queue) SELECT g, 1, 'w', now() - interval '20 days',"
               " now() - interval '20 days', 'succeeded', 't', 'default'"
               " FROM generate_series(1, 8) AS g");
    auto p = policy(1);
    p.share_percent = share;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = db.prune(p, false);
    BOOST_TEST(r.succeeded == 8);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
      .count();
  };
  const double full = pass_ms(100);
  const double paced = pass_ms(2);
  BOOST_TEST(paced > 10 * full, "2%: " << paced << " ms, 100%: " << full << " ms");
}

BOOST_AUTO_TEST_CASE(a_node_prunes_on_its_interval) {
  mixed_history();
  auto cfg = fast_node_config();
  cfg.database_url = test_dsn();
  cfg.prune_interval = 1s;
  cfg.retention = policy();
  cfg.http_listen = "off";
  node n{cfg, builtin_handlers()};
  n.start();
  BOOST_TEST(wait_until([&] { return !exists(140) && !exists(101); }, 10s));
  n.stop();
  BOOST_TEST(!exists(103));
  BOOST_TEST(exists(195));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.runs") == 2);
}

BOOST_AUTO_TEST_CASE(bad_retention_values_are_one_line_errors) {
  const std::vector<std::vector<std::string>> cases = {
    {"prune", "--retain-dead", "5x"},
    {"prune", "--retain-succeeded", "-1d"},
    {"prune", "--retain-runs", "400d"},
    {"prune", "--retain-instances", ""},
    {"prune", "--retain-violations", "7 d"},
    {"prune", "--batch", "0"},
    {"node", "--retain-dead", "forever-ish"},
    {"node", "--prune-interval", "10ms"},
    {"prune", "--share", "0%"},
    {"prune", "--share", "ten"},
    {"node", "--prune-share", "150%"},
    {"node", "--prune-share", "-5"},
  };
  mixed_history();
  auto before = history_rows();
  for (const auto& c : cases) {
    std::vector<std::string> argv = {leasehold_bin(), "--database-url", test_dsn()};
    argv.insert(argv.end(), c.begin(), c.end());
    auto r = run_for(argv, {}, 10000);
    std::string what = c[1] + " '" + c[2] + "'";
    BOOST_TEST(r.exit_code > 0, what << ": exit " << r.exit_code);
    BOOST_TEST(r.out.empty(), what);
    BOOST_TEST(r.err.find(c[1]) != std::string::npos, what << ": " << r.err);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, what << ": " << r.err);
  }
  BOOST_TEST(history_rows() == before);
}

BOOST_AUTO_TEST_SUITE_END()
