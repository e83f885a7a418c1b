// The hot path: the claim reaches its rows through indexes whatever the
// queue's depth, non-blocking handlers skip the handler pool, and a burst of
// jobs is drained in batched claims and completions.
#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <pthread.h>

#include <boost/test/unit_test.hpp>

#include "runtime/defaults.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// True when the plan (EXPLAIN FORMAT JSON) reads all of leasehold.jobs.
bool scans_all_jobs(const nlohmann::json& node) {
  if (node.is_array())
    return std::any_of(node.begin(), node.end(), scans_all_jobs);
  if (!node.is_object())
    return false;
  if (node.value("Node Type", "") == "Seq Scan" && node.value("Relation Name", "") == "jobs")
    return true;
  for (const auto& key : {"Plan", "Plans"})
    if (node.contains(key) && scans_all_jobs(node[key]))
      return true;
  return false;
}

// Sums `value` over every node of a plan (EXPLAIN FORMAT JSON).
double sum_over_plan(const nlohmann::json& node,
                     const std::function<double(const nlohmann::json&)>& value) {
  if (node.is_array()) {
    double sum = 0;
    for (const auto& n : node)
      sum += sum_over_plan(n, value);
    return sum;
  }
  if (!node.is_object())
    return 0;
  double sum = value(node);
  for (const auto& key : {"Plan", "Plans"})
    if (node.contains(key))
      sum += sum_over_plan(node[key], value);
  return sum;
}

// Rows that join filters threw away, over the whole plan (EXPLAIN ANALYZE).
double rows_removed_by_join_filters(const nlohmann::json& plan) {
  return sum_over_plan(plan, [](const nlohmann::json& n) {
    return n.value("Rows Removed by Join Filter", 0.0);
  });
}

// Completes `batch` for worker 'w' through the success statement, under the
// generic plan a prepared statement settles on; returns EXPLAIN ANALYZE.
nlohmann::json complete_under_generic_plan(pg_fixture& f, const std::string& batch) {
  f.db.execute("SET plan_cache_mode = force_generic_plan");
  f.db.execute("PREPARE plan_me(text, text, timestamptz, boolean) AS "
               + read_sql("job_complete_success.sql"));
  auto plan = nlohmann::json::parse(f.value(
    "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE plan_me('w', '" + batch + "', 'infinity', false)"));
  f.db.execute("DEALLOCATE plan_me");
  f.db.execute("RESET plan_cache_mode");
  return plan;
}

std::string thread_name() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(hot_path, pg_fixture)

BOOST_AUTO_TEST_CASE(hot_statements_never_scan_the_whole_jobs_table) {
  register_worker(db, "w");
  // 50,000 jobs: enough for the planner to prefer a hash join over a full
  // scan of jobs if a statement lets it.
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 50000)");
  db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = 'w', attempts = 1,"
             " heartbeat_at = now() - interval '1 hour' WHERE id % 100 = 0");
  db.execute("ANALYZE leasehold.jobs");
  struct statement {
    const char* file;
    const char* types;
    const char* args;
  };
  const char* claim_types = "text, text, integer, smallint, timestamptz, bigint, text[]";
  // A node's connections keep one generic plan per statement
  // (statement_plans::generic), so the claim is checked under both.
  for (const char* plans : {"auto", "force_generic_plan"})
    for (const auto& st : {statement{"job_claim.sql", claim_types, "'w', 'default', 1, -32768, '-infinity', 0, '{noop}'"},
                           statement{"job_claim.sql", claim_types, "'w', 'default', 500, -32768, '-infinity', 0, '{noop}'"},
                           statement{"observe_chain.sql", "text", "'order-17'"},
                           statement{"observe_chain.sql", "text", "'job-17'"},
                           statement{"job_rescue.sql", "bigint, bigint, bigint, bigint",
                                     "1000, 100, 1000, 3600000"},
                           statement{"lease_renew.sql", "text, bigint[], integer[]",
                                     "'w', '{100,200,300}', '{1,1,1}'"},
                           statement{"lease_abandon_unknown.sql", "text, bigint[], bigint",
                                     "'w', '{100,200,300}', 1000"}}) {
      BOOST_TEST_CONTEXT(st.file << "(" << st.args << ") under plan_cache_mode " << plans) {
        db.execute(std::string{"SET plan_cache_mode = "} + plans);
        db.execute(std::string{"PREPARE plan_me("} + st.types + ") AS " + read_sql(st.file));
        auto plan = nlohmann::json::parse(
          value(std::string{"EXPLAIN (FORMAT JSON) EXECUTE plan_me("} + st.args + ")"));
        BOOST_TEST(!scans_all_jobs(plan), plan.dump());
        db.execute("DEALLOCATE plan_me");
        db.execute("RESET plan_cache_mode");
      }
    }
}

// How often the prepared statement `name` was planned on `s`'s connection.
struct plan_counts {
  int64_t generic = 0, custom = 0;
};
plan_counts plans_of(store& s, const std::string& name) {
  auto text = s.query_value("SELECT generic_plans || ' ' || custom_plans"
                            " FROM pg_prepared_statements WHERE name = '" + name + "'");
  plan_counts counts;
  std::istringstream{text.value_or("-1 -1")} >> counts.generic >> counts.custom;
  return counts;
}

BOOST_AUTO_TEST_CASE(generic_plans_plan_the_claim_and_the_completion_once) {
  register_worker(db, "w");
  // Left to itself, Postgres planned both statements at every execution:
  // with the values in, the claim's LIMIT and the completion's strict flag
  // make a plan look cheaper than the generic one; one plan each saves ~8%
  // of Postgres's CPU per job. A node's connections keep one generic plan.
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 5000)");
  db.execute("ANALYZE leasehold.jobs");
  std::map<statement_plans, std::pair<plan_counts, plan_counts>> seen;
  for (auto plans : {statement_plans::automatic, statement_plans::generic}) {
    store s{test_dsn(), plans};
    for (int round = 0; round < 10; ++round) {
      std::vector<job_outcome> batch;
      for (const auto& job : s.claim("w", "default", 50, {"noop"})) {
        job_outcome o;
        o.lease = {job.id, job.attempt};
        batch.push_back(o);
      }
      BOOST_REQUIRE_EQUAL(batch.size(), 50u);
      for (const auto& r : s.complete("w", batch, trace_policy{}))
        BOOST_TEST(r.written);
    }
    seen[plans] = {plans_of(s, "job_claim"), plans_of(s, "job_complete_success")};
  }
  auto [claim, completion] = seen[statement_plans::generic];
  BOOST_TEST(claim.generic == 10);
  BOOST_TEST(claim.custom == 0);
  BOOST_TEST(completion.generic == 10);
  BOOST_TEST(completion.custom == 0);
  // Why it is needed: by default the completion is planned again and again
  // (the claim, since its pick moved into a CTE in migration 023, goes
  // generic after Postgres's five custom plans).
  auto [auto_claim, auto_completion] = seen[statement_plans::automatic];
  BOOST_TEST(auto_claim.custom >= 5);
  BOOST_TEST(auto_completion.custom == 10);
  BOOST_TEST(succeeded() == 1000);
}

// /health reads only the queued, running and dead jobs, through their
// partial indexes: a table of mostly finished jobs is not scanned.
BOOST_AUTO_TEST_CASE(health_reads_only_the_jobs_it_reports_on) {
  db.execute("INSERT INTO leasehold.jobs (type, status, finished_at)"
             " SELECT (ARRAY['a','b','c'])[1 + g % 3],"
             " CASE WHEN g % 100 = 0 THEN 'queued' WHEN g % 100 = 1 THEN 'failed'"
             " ELSE 'succeeded' END, CASE WHEN g % 100 <> 0 THEN now() END"
             " FROM generate_series(1, 50000) AS g");
  db.execute("ANALYZE leasehold.jobs");
  db.execute("PREPARE plan_me(bigint, bigint, bigint) AS " + read_sql("observe_health.sql"));
  auto plan = nlohmann::json::parse(
    value("EXPLAIN (FORMAT JSON) EXECUTE plan_me(1000, 1000, 1000)"));
  db.execute("DEALLOCATE plan_me");
  BOOST_TEST(!scans_all_jobs(plan), plan.dump());
  // The one pass over queued jobs gives both the counts and the lag.
  db.execute("UPDATE leasehold.jobs SET run_at = now() - interval '1 hour'"
             " WHERE status = 'queued' AND type = 'b'");
  db.execute("UPDATE leasehold.jobs SET run_at = now() + interval '1 day'"
             " WHERE status = 'queued' AND type = 'c'");
  auto health = nlohmann::json::parse(db.health_json(observe_thresholds{}));
  BOOST_TEST(health["jobs_queued"]["total"] == 500);
  BOOST_TEST(health["jobs_queued"]["by_type"]["b"] == 167);
  BOOST_TEST(health["estimated_lag_seconds"].get<double>() >= 3600.0);
  BOOST_TEST(health["estimated_lag_seconds"].get<double>() < 3700.0);
}

// A completion batch is matched to its jobs by a join. With the generic
// plan a prepared statement settles on, an input the planner guesses at 10
// rows (unnest of an array parameter) was rescanned once per running job:
// 1,000,000 rows compared for a batch of 1,000 (170 ms).
BOOST_AUTO_TEST_CASE(a_completion_batch_is_not_matched_row_by_row_against_every_running_job) {
  register_worker(db, "w");
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 20000)");
  db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = 'w', attempts = 1,"
             " locked_at = now(), heartbeat_at = now() WHERE id % 20 = 0");
  db.execute("ANALYZE leasehold.jobs");
  auto batch = value("SELECT jsonb_agg(jsonb_build_array(id, attempts))::text"
                     " FROM leasehold.all_jobs WHERE status = 'running'");
  auto plan = complete_under_generic_plan(*this, batch);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 1000);
  BOOST_TEST(rows_removed_by_join_filters(plan) < 1000.0, plan.dump());
}

// After a full batch, a claim starts past the last job it took: a job that
// sorts before that point (here a higher priority) is taken once a short
// batch or the cursor's age sends the claim back to the head of the queue.
// Claimed jobs leave dead entries at the head of the claim index until
// VACUUM. With its cursor, a claim's index scan starts past them instead of
// reading every page of them.
BOOST_AUTO_TEST_CASE(a_claim_with_a_cursor_skips_the_claimed_head_of_the_index) {
  register_worker(db, "w");
  db.execute("ALTER TABLE leasehold.jobs SET (autovacuum_enabled = false)");
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 30000)");
  db.execute("ANALYZE leasehold.jobs");
  db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = 'w', attempts = 1"
             " WHERE id < (SELECT min(id) + 20000 FROM leasehold.jobs)");
  db.execute("DELETE FROM leasehold.jobs WHERE status = 'running'");
  db.execute("PREPARE plan_me(text, text, integer, smallint, timestamptz, bigint, text[]) AS "
             + read_sql("job_claim.sql"));
  auto claim_index_blocks = [&](const std::string& cursor) {
    auto plan = nlohmann::json::parse(value(
      "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE plan_me('w', 'default', 10, " + cursor
      + ", '{noop}')"));
    return sum_over_plan(plan, [](const nlohmann::json& n) {
      return n.value("Index Name", "") == "jobs_claim_idx"
               ? n.value("Shared Hit Blocks", 0.0) + n.value("Shared Read Blocks", 0.0)
               : 0.0;
    });
  };
  // The cursor sits just before the first queued job, as after a full batch.
  auto with_cursor = claim_index_blocks(
    value("SELECT format('%s, %L, %s', priority, run_at, id - 1) FROM leasehold.jobs"
          " WHERE status = 'queued' ORDER BY priority, run_at, id LIMIT 1"));
  auto from_head = claim_index_blocks("-32768, '-infinity', 0");
  db.execute("DEALLOCATE plan_me");
  db.execute("ALTER TABLE leasehold.jobs RESET (autovacuum_enabled)");
  BOOST_TEST(with_cursor * 10 < from_head, with_cursor << " vs " << from_head << " blocks");
}

// A completion batch reaches its own jobs only: a node with many slots must
// not read all of its running jobs for every batch of a few.
BOOST_AUTO_TEST_CASE(a_completion_batch_reads_its_own_jobs_not_every_running_one) {
  register_worker(db, "w");
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 20000)");
  db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = 'w', attempts = 1,"
             " locked_at = now(), heartbeat_at = now() WHERE id % 10 = 0");
  db.execute("ANALYZE leasehold.jobs");
  auto batch = value("SELECT jsonb_agg(jsonb_build_array(id, attempts))::text FROM"
                     " (SELECT id, attempts FROM leasehold.jobs WHERE status = 'running'"
                     " ORDER BY id LIMIT 100) AS b");
  auto plan = complete_under_generic_plan(*this, batch);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 100);
  auto job_rows_read = sum_over_plan(plan, [](const nlohmann::json& n) {
    auto type = n.value("Node Type", "");
    return n.value("Relation Name", "") == "jobs" && type.find("Scan") != std::string::npos
             ? n.value("Actual Rows", 0.0) * n.value("Actual Loops", 0.0)
             : 0.0;
  });
  BOOST_TEST(job_rows_read <= 200.0, job_rows_read << " rows of jobs read: " << plan.dump());
}

BOOST_AUTO_TEST_CASE(non_blocking_handlers_run_on_the_executor_thread) {
  std::mutex mtx;
  std::map<std::string, std::string> ran_on;
  auto handlers = std::make_shared<handler_registry>();
  auto record = [&](const char* type) {
    return [&, type](job_context&) {
      std::lock_guard<std::mutex> guard{mtx};
      ran_on[type] = thread_name();
      return handler_result::success();
    };
  };
  handlers->add("quick", record("quick"), handler_mode::non_blocking);
  handlers->add("slow", record("slow"));
  enqueue(db, "quick");
  enqueue(db, "slow");
  BOOST_REQUIRE(run_until_succeeded(fast_node_config(), handlers, 2, 10s));
  BOOST_TEST(ran_on["slow"] == "lh.handler");
  BOOST_TEST(ran_on["quick"] != "lh.handler");
  BOOST_TEST(!ran_on["quick"].empty());
}

BOOST_AUTO_TEST_CASE(a_burst_is_drained_in_batches_every_attempt_recorded) {
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 4000)");
  db.execute("ANALYZE leasehold.jobs");
  auto cfg = fast_node_config();
  cfg.concurrency = 400;
  BOOST_REQUIRE(run_until_succeeded(cfg, builtin_handlers(), 4000, 30s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 4000);
  // Every claim and every completion batch is one transaction, so now()
  // is shared within it: distinct timestamps count the round trips. One
  // per job (or close to it) would mean the batching broke.
  auto claims = count("SELECT count(DISTINCT started_at) FROM leasehold.job_runs");
  auto completions = count("SELECT count(DISTINCT finished_at) FROM leasehold.job_runs");
  BOOST_TEST(claims <= 4000 / 20, claims << " claims");
  BOOST_TEST(completions <= 4000 / 10, completions << " completion writes");
}

BOOST_AUTO_TEST_CASE(slow_handlers_outcomes_share_their_writes) {
  // 10 ms handlers on 24 slots end about 2.4 per millisecond, a few at a
  // time: written at once, 480 outcomes took ~60 statements. The completion
  // linger gathers them (finished_at is the write's now(), so distinct
  // values count the writes); 20ms of it should leave about 12.
  BOOST_TEST(defaults::completion_linger.count() > 0);
  db.execute("INSERT INTO leasehold.jobs (type, payload) SELECT 'sleep', '{\"ms\": 10}'"
             " FROM generate_series(1, 480)");
  auto cfg = fast_node_config();
  cfg.concurrency = 24;
  cfg.completion_linger = 20ms;
  BOOST_REQUIRE(run_until_succeeded(cfg, builtin_handlers(), 480, 30s));
  auto writes = count("SELECT count(DISTINCT finished_at) FROM leasehold.job_runs");
  BOOST_TEST(writes <= 480 / 20, writes << " completion writes for 480 outcomes");
}

BOOST_AUTO_TEST_CASE(executors_are_reused_from_attempt_to_attempt) {
  // An actor per attempt meant a spawn, a teardown and a wake of CAF's clock
  // thread per job; executors now run attempts until one fails. One is busy
  // per running handler and per outcome being written: at most a node's
  // concurrency plus what it claims ahead.
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 2000)");
  auto cfg = fast_node_config();
  cfg.concurrency = 8;
  cfg.prefetch = 40;
  node n{cfg, builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 2000; }, 30s));
  auto stats = n.stats();
  n.stop();
  BOOST_TEST(stats.outcomes["succeeded"] == 2000);
  BOOST_TEST(stats.executors_spawned >= 1);
  BOOST_TEST(stats.executors_spawned <= 8 + 40, stats.executors_spawned << " executors spawned");
}

BOOST_AUTO_TEST_CASE(a_chain_lists_running_jobs_too) {
  // The correlation index leaves running jobs out (migration 008).
  for (const auto& [type, payload] : {std::pair{"sleep", R"({"ms": 5000})"},
                                      std::pair{"noop", "{}"}}) {
    new_job j;
    j.type = type;
    j.payload = payload;
    j.correlation_id = "order-17";
    db.enqueue(j);
  }
  auto handlers = builtin_handlers();
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] {
      return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'running'") == 1
             && succeeded() == 1;
    },
    10s));
  auto chain = nlohmann::json::parse(db.chain_json("order-17"));
  n.stop(); // the sleep is cut short; the chain was read while it ran
  std::set<std::string> statuses;
  for (const auto& job : chain)
    statuses.insert(job["status"].get<std::string>());
  BOOST_TEST(chain.size() == 2u);
  BOOST_TEST(statuses.count("running") == 1u);
  BOOST_TEST(statuses.count("succeeded") == 1u);
}

// Bulk enqueue copies rows (COPY): rows that set different optional fields
// are copied apart, so unset fields still take the table's defaults, and
// tabs, newlines and backslashes in values stay inside their field.
BOOST_AUTO_TEST_CASE(bulk_enqueue_keeps_each_rows_fields_and_the_table_defaults) {
  std::vector<new_job> jobs(4);
  for (auto& j : jobs)
    j.type = "noop";
  jobs[1].queue = "q\t1\n2\\";
  jobs[1].priority = -3;
  jobs[1].payload = R"({"text": "a\tb\nc\\d"})";
  jobs[2].run_at = "2031-01-02T03:04:05Z";
  jobs[2].max_attempts = 7;
  jobs[3].type = "noop\n3\t\\N";
  jobs[3].correlation_id = "mine";
  auto ids = ids_of(db.enqueue_many(jobs));
  BOOST_REQUIRE(ids.size() == 4u);
  BOOST_TEST(std::is_sorted(ids.begin(), ids.end()));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 4);
  auto row = [&](int64_t id) {
    return value("SELECT concat_ws('|', type, queue, priority, max_attempts, payload::text,"
                 " run_at = now(), to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
                 " coalesce(correlation_id, 'none')) FROM leasehold.jobs WHERE id = "
                 + std::to_string(id));
  };
  BOOST_TEST(row(ids[0]).find("noop|default|0|25|{}|") == 0u);
  BOOST_TEST(row(ids[1]).find("noop|q\t1\n2\\|-3|25|{\"text\": \"a\\tb\\nc\\\\d\"}|") == 0u,
             row(ids[1]));
  BOOST_TEST(row(ids[2]).find("noop|default|0|7|{}|f|2031-01-02 03:04:05|") == 0u, row(ids[2]));
  BOOST_TEST(row(ids[3]).find("noop\n3\t\\N|default|0|25|") == 0u, row(ids[3]));
  BOOST_TEST(row(ids[3]).substr(row(ids[3]).size() - 5) == "|mine");
  BOOST_TEST(row(ids[0]).substr(row(ids[0]).size() - 5) == "|none"); // job-<id> (014)
}

BOOST_AUTO_TEST_CASE(a_bulk_payload_that_is_not_json_writes_nothing) {
  std::vector<new_job> jobs(2);
  jobs[0].type = "noop";
  jobs[1].type = "noop";
  jobs[1].payload = R"(1}, {"type": "smuggled")"; // would add a row if spliced blindly
  BOOST_CHECK_THROW(db.enqueue_many(jobs), store_invalid_input);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
