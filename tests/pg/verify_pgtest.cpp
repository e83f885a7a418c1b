// leasehold verify against the real binary and a real Postgres: a fleet's
// honest work verifies clean, and each invariant, broken on purpose the way
// a bug would break it, is reported by name with the rows involved (exit 3)
// while every other invariant still holds.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "persistence/verify.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// Well-formed worker ids: {base}-{uuid v4}.
const std::string owner = "verify-11111111-2222-4333-8444-555555555555";
const std::string other = "verify-aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

run_result verify_cli(std::vector<std::string> args = {}) {
  args.insert(args.begin(), {leasehold_bin(), "verify", "--json"});
  return run(args, {{"DATABASE_URL", test_dsn()}});
}

struct verify_fixture : pg_fixture {
  // The violated invariants by name, from `verify --json`.
  std::map<std::string, nlohmann::json> violated(const run_result& r) {
    std::map<std::string, nlohmann::json> out;
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    BOOST_REQUIRE_MESSAGE(!doc.is_discarded(), "not JSON: " << r.out << r.err);
    for (const auto& c : doc["checks"])
      if (c["violations"].get<int64_t>() > 0)
        out[c["name"].get<std::string>()] = c;
    return out;
  }

  // Exactly `name` is violated, and its first row names `key` = `value`.
  void only_violated(const std::string& name, const std::string& key, int64_t value) {
    auto r = verify_cli();
    BOOST_TEST(r.exit_code == 3, "exit " << r.exit_code << " " << r.err);
    auto v = violated(r);
    BOOST_TEST(v.size() == 1u, r.out.substr(0, 2000));
    BOOST_REQUIRE(v.count(name) == 1);
    BOOST_TEST(v[name]["rows"][0][key].get<int64_t>() == value, v[name].dump());
  }

  // A success of `job` at `attempt` by `worker`, written as the completion
  // statement writes it.
  void success(int64_t job, int attempt, const std::string& worker,
               const std::string& trace = "") {
    auto t = trace.empty() ? "'" + worker + "-" + std::to_string(job) + "-"
                               + std::to_string(attempt) + "'"
                           : trace;
    db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,"
               " finished_at, outcome, type, queue, priority, payload, max_attempts,"
               " run_at, created_at) VALUES (" + std::to_string(job) + ", "
               + std::to_string(attempt) + ", '" + worker + "', " + t
               + ", now(), 'succeeded', 'noop', 'default', 0, '{}', 25, now(), now())");
  }

  void failed_run(int64_t job, int attempt) {
    db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, finished_at,"
               " outcome, error) VALUES (" + std::to_string(job) + ", "
               + std::to_string(attempt) + ", '" + owner + "', now(), 'failed', 'boom')");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(verify, verify_fixture)

BOOST_AUTO_TEST_CASE(honest_work_verifies_clean) {
  // Successes, a retried failure, a dead job, a run with an on-complete job.
  for (int i = 0; i < 20; ++i)
    enqueue(db, "noop");
  enqueue(db, "fail", "{}", 3);
  enqueue(db, "fail", "{}", 2);
  run_spec spec;
  spec.type = "noop";
  spec.on_complete_type = "noop";
  spec.partitions = {{"a", "{}"}, {"b", "{}"}};
  db.create_run(spec);
  node n{fast_node_config(), builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.all_jobs"
                 " WHERE status IN ('succeeded', 'failed')") == 25;
  }, 10s));
  n.stop();
  auto r = verify_cli();
  BOOST_TEST(r.exit_code == 0, r.out.substr(0, 2000) << r.err);
  BOOST_TEST(violated(r).empty());
  auto doc = nlohmann::json::parse(r.out);
  BOOST_TEST(doc["checks"].size() == invariants().size());
  // The text form says the same in one line at the end.
  auto text = run({leasehold_bin(), "verify"}, {{"DATABASE_URL", test_dsn()}});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out.find("verified: 0 of 16 invariants violated") != std::string::npos,
             text.out);
}

BOOST_AUTO_TEST_CASE(a_stuck_job_is_reported) {
  register_worker(db, owner, {1000, 2000, 5000});
  auto id = enqueue(db, "noop");
  db.execute("UPDATE leasehold.jobs SET status = 'running', attempts = 1, locked_by = '"
             + owner + "', locked_at = now(), heartbeat_at = now() - interval '5 minutes'"
             " WHERE id = " + std::to_string(id));
  only_violated("stuck_jobs", "job_id", id);
}

BOOST_AUTO_TEST_CASE(a_running_job_of_an_unregistered_owner_is_reported) {
  auto id = enqueue(db, "noop");
  db.execute("UPDATE leasehold.jobs SET status = 'running', attempts = 1, locked_by = '"
             + other + "', locked_at = now(), heartbeat_at = now() WHERE id = "
             + std::to_string(id));
  only_violated("running_owner_not_active", "job_id", id);
}

BOOST_AUTO_TEST_CASE(two_active_singletons_are_reported) {
  // The unique index forbids it; a bug (or a dropped index) would not.
  db.execute("DROP INDEX leasehold.worker_instances_one_active_singleton");
  for (const auto& w : {owner, other})
    db.execute("INSERT INTO leasehold.worker_instances (worker_id, worker_type, singleton,"
               " status, hostname, pid, version) VALUES ('" + w
               + "', 'cron', true, 'RUNNING', 'h', 1, 'v')");
  auto r = verify_cli();
  db.execute("DELETE FROM leasehold.worker_instances");
  db.execute("CREATE UNIQUE INDEX worker_instances_one_active_singleton"
             " ON leasehold.worker_instances (worker_type)"
             " WHERE singleton AND status IN ('STARTING', 'RUNNING')");
  BOOST_TEST(r.exit_code == 3);
  auto v = violated(r);
  BOOST_TEST(v.size() == 1u);
  BOOST_TEST(v["one_active_singleton"]["rows"][0]["worker_type"] == "cron");
}

BOOST_AUTO_TEST_CASE(a_second_success_is_reported) {
  register_worker(db, owner);
  success(1001, 1, owner);
  success(1001, 2, owner);
  only_violated("one_success_per_job", "job_id", 1001);
}

BOOST_AUTO_TEST_CASE(a_job_alive_after_its_success_is_reported) {
  register_worker(db, owner);
  auto id = enqueue(db, "noop");
  db.execute("UPDATE leasehold.jobs SET attempts = 1 WHERE id = " + std::to_string(id));
  success(id, 1, owner);
  only_violated("nothing_after_success", "job_id", id);
}

BOOST_AUTO_TEST_CASE(a_dead_job_missing_a_run_row_is_reported) {
  auto id = enqueue(db, "noop");
  db.execute("UPDATE leasehold.jobs SET status = 'failed', attempts = 2,"
             " finished_at = now() WHERE id = " + std::to_string(id));
  failed_run(id, 1);
  only_violated("attempts_match_runs", "job_id", id);
}

BOOST_AUTO_TEST_CASE(a_foreign_trace_id_is_reported) {
  register_worker(db, owner);
  success(1002, 1, owner, "'" + other + "-1002-1'");
  only_violated("trace_id_format", "job_id", 1002);
}

BOOST_AUTO_TEST_CASE(a_malformed_worker_id_is_reported) {
  register_worker(db, "w1");
  success(1003, 1, "w1");
  only_violated("worker_id_format", "job_id", 1003);
}

BOOST_AUTO_TEST_CASE(a_success_without_a_trace_id_is_reported) {
  register_worker(db, owner);
  success(1004, 1, owner, "NULL");
  only_violated("traced_successes", "job_id", 1004);
  // Before the cutoff it is allowed.
  auto r = verify_cli({"--trace-cutoff", "2999-01-01"});
  BOOST_TEST(r.exit_code == 0, r.out.substr(0, 1000));
}

BOOST_AUTO_TEST_CASE(a_success_by_an_unregistered_worker_is_reported) {
  success(1005, 1, other);
  only_violated("success_by_registered_worker", "job_id", 1005);
}

BOOST_AUTO_TEST_CASE(a_success_written_after_a_revocation_is_reported) {
  register_worker(db, owner);
  db.execute("UPDATE leasehold.worker_instances SET status = 'STOPPED',"
             " stopped_at = now() - interval '1 minute'");
  success(1006, 1, owner);
  only_violated("no_success_after_revocation", "job_id", 1006);
  // --since after the success leaves it out.
  auto r = verify_cli({"--since", "2999-01-01"});
  BOOST_TEST(r.exit_code == 0, r.out.substr(0, 1000));
}

BOOST_AUTO_TEST_CASE(a_run_missing_a_partition_is_reported) {
  auto run_id = db.query_value("INSERT INTO leasehold.runs (type, expected)"
                               " VALUES ('noop', 2) RETURNING id").value();
  db.execute("INSERT INTO leasehold.jobs (type, run_id, partition_key) VALUES ('noop', "
             + run_id + ", 'a')");
  only_violated("run_counts", "run_id", std::stoll(run_id));
}

BOOST_AUTO_TEST_CASE(a_completed_run_without_its_on_complete_job_is_reported) {
  auto run_id = db.query_value(
    "INSERT INTO leasehold.runs (type, expected, on_complete_type, completed_at)"
    " VALUES ('noop', 1, 'noop', now()) RETURNING id").value();
  db.execute("INSERT INTO leasehold.jobs (type, run_id, partition_key, status, finished_at)"
             " VALUES ('noop', " + run_id + ", 'a', 'cancelled', now())");
  only_violated("on_complete_once", "run_id", std::stoll(run_id));
}

BOOST_AUTO_TEST_CASE(hostile_options_get_one_line_and_exit_non_zero) {
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"--since", "'; DROP TABLE leasehold.jobs; --"}, {"--grace", "forever"},
         {"--limit", "0"}, {"--trace-cutoff", "yesterday-ish"}, {"--lease-ttl", "-1s"}}) {
    auto r = verify_cli(args);
    BOOST_TEST((r.exit_code == 1 || r.exit_code == 2), args[0] << " exit " << r.exit_code);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, args[0] << ": " << r.err);
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 0); // the table is intact
}

// Two attempts of a queue limited to one, overlapping for a second.
BOOST_AUTO_TEST_CASE(attempts_over_a_queues_limit_are_reported) {
  register_worker(db, owner);
  db.set_queue_concurrency("default", 1);
  for (int job : {2001, 2002})
    db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,"
               " started_at, finished_at, outcome, type, queue, priority, payload,"
               " max_attempts, run_at, created_at) VALUES (" + std::to_string(job) + ", 1, '"
               + owner + "', '" + owner + "-" + std::to_string(job) + "-1', now() - interval '"
               + (job == 2001 ? "3" : "2") + " seconds', now() - interval '"
               + (job == 2001 ? "1" : "0") + " seconds', 'succeeded', 'noop', 'default', 0,"
               " '{}', 25, now(), now())");
  auto r = verify_cli();
  BOOST_TEST(r.exit_code == 3, r.err);
  auto v = violated(r);
  BOOST_TEST(v.size() == 1u, r.out.substr(0, 2000));
  BOOST_REQUIRE(v.count("queue_concurrency") == 1);
  BOOST_TEST(v["queue_concurrency"]["rows"][0]["queue"] == "default");
  BOOST_TEST(v["queue_concurrency"]["rows"][0]["running_at_once"] == 2);
  // With a limit of two, the same history holds.
  db.set_queue_concurrency("default", 2);
  BOOST_TEST(verify_cli().exit_code == 0);
}

// A succeeded run row of job `job`, `from`..`to` seconds ago, with `key`.
void insert_success(store& db, const std::string& owner, int job, int from, int to, const std::string& key = "") {
  db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,"
             " started_at, finished_at, outcome, type, queue, priority, payload,"
             " max_attempts, run_at, created_at, concurrency_key) VALUES ("
             + std::to_string(job) + ", 1, '" + owner + "', '" + owner + "-" + std::to_string(job)
             + "-1', now() - "
             + std::to_string(from) + " * interval '1 second', now() - " + std::to_string(to)
             + " * interval '1 second', 'succeeded', 'noop', 'default', 0, '{}', 25, now(),"
             " now(), " + (key.empty() ? "NULL" : "'" + key + "'") + ")");
}

// Two attempts of one key overlapping (per_key 1 unless set), and two of
// another key that did not.
BOOST_AUTO_TEST_CASE(attempts_over_a_keys_limit_are_reported) {
  register_worker(db, owner);
  insert_success(db, owner, 3001, 3, 1, "tenant-a");
  insert_success(db, owner, 3002, 2, 0, "tenant-a");
  insert_success(db, owner, 3003, 3, 2, "tenant-b");
  insert_success(db, owner, 3004, 2, 1, "tenant-b");
  auto r = verify_cli();
  BOOST_TEST(r.exit_code == 3, r.err);
  auto v = violated(r);
  BOOST_TEST(v.size() == 1u, r.out.substr(0, 2000));
  BOOST_REQUIRE(v.count("key_concurrency") == 1);
  BOOST_TEST(v["key_concurrency"]["rows"].size() == 1u);
  BOOST_TEST(v["key_concurrency"]["rows"][0]["key"] == "tenant-a");
  BOOST_TEST(v["key_concurrency"]["rows"][0]["running_at_once"] == 2);
  db.execute("SELECT leasehold.set_queue_limits('default', '{\"per_key\": 2}')");
  BOOST_TEST(verify_cli().exit_code == 0);
}

// 6 starts within one second of a queue limited to 1/s with bursts of 2
// (verify allows burst + rate + 1 for the claim's clock: 4).
BOOST_AUTO_TEST_CASE(starts_over_a_queues_rate_are_reported) {
  register_worker(db, owner);
  db.execute("SELECT leasehold.set_queue_limits('default',"
             " '{\"rate\": {\"jobs\": 1, \"period\": \"1 second\", \"burst\": 2}}')");
  for (int i = 0; i < 6; ++i)
    db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,"
               " started_at, finished_at, outcome, type, queue, priority, payload,"
               " max_attempts, run_at, created_at) VALUES (" + std::to_string(4001 + i)
               + ", 1, '" + owner + "', '" + owner + "-" + std::to_string(4001 + i)
               + "-1', now() - interval '10 s'"
               " + " + std::to_string(i * 100) + " * interval '1 ms', now(), 'succeeded',"
               " 'noop', 'default', 0, '{}', 25, now(), now())");
  auto r = verify_cli();
  BOOST_TEST(r.exit_code == 3, r.err);
  auto v = violated(r);
  BOOST_TEST(v.size() == 1u, r.out.substr(0, 2000));
  BOOST_REQUIRE(v.count("queue_rate") == 1);
  BOOST_TEST(v["queue_rate"]["rows"][0]["started_in_period_more_than"] == 4);
  // Spread over six seconds, the same starts keep to the rate.
  db.execute("UPDATE leasehold.job_runs SET started_at = now() - interval '10 s'"
             " + (job_id - 4001) * interval '1 s'");
  BOOST_TEST(verify_cli().exit_code == 0);
}

BOOST_AUTO_TEST_SUITE_END()
