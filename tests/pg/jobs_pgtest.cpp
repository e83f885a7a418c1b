// Jobs run to their outcomes: success, retry with backoff, dead, and
// precondition failures; trace ids, correlation and NOTIFY wakeups.
#include <cstdio>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "persistence/migration_texts.hpp"
#include "persistence/migrations.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(job_outcomes, pg_fixture)

BOOST_AUTO_TEST_CASE(noop_jobs_succeed_once_with_a_run_and_trace_id_each) {
  for (int i = 0; i < 50; ++i)
    enqueue(db, "noop");
  node n{fast_node_config(), builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return succeeded() == 50; },
    10s));
  auto me = n.worker_id();
  n.stop();
  BOOST_TEST(me.rfind("test-", 0) == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'") == 50);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE attempts <> 1"
                   " OR finished_at IS NULL") == 0);
  // trace_id = {worker_id}-{job_id}-{attempt}, on the job and on its run.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs j JOIN leasehold.job_runs r"
                   " ON r.job_id = j.id WHERE j.trace_id = '" + me + "-' || j.id || '-1'"
                   " AND r.trace_id = j.trace_id AND r.worker_id = '" + me + "'") == 50);
  BOOST_TEST(n.stats().claimed == 0); // stopped node reports nothing
}

BOOST_AUTO_TEST_CASE(failures_retry_with_backoff_then_die_with_max_attempts_exceeded) {
  auto id = enqueue(db, "fail", R"({"message":"disk full"})", 4);
  auto cfg = fast_node_config();
  cfg.retry_base = 100ms;
  node n{cfg, builtin_handlers()};
  n.start();
  auto where = " WHERE id = " + std::to_string(id);
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs" + where) == "failed"; }, 15s));
  n.stop();
  BOOST_TEST(value("SELECT last_error_code FROM leasehold.all_jobs" + where) == "max_attempts_exceeded");
  BOOST_TEST(value("SELECT last_error FROM leasehold.all_jobs" + where) == "disk full");
  BOOST_TEST(value("SELECT attempts FROM leasehold.all_jobs" + where) == "4");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'failed'"
                   " AND error = 'disk full' AND job_id = " + std::to_string(id)) == 4);
  // Gaps between attempts follow 100ms * 2^(n-1): >= 100, 200, 400 ms.
  for (int attempt = 2; attempt <= 4; ++attempt) {
    auto gap = std::stod(value(
      "SELECT extract(epoch FROM b.started_at - a.finished_at) * 1000"
      " FROM leasehold.job_runs a JOIN leasehold.job_runs b ON b.job_id = a.job_id"
      " AND b.attempt = a.attempt + 1 WHERE a.job_id = " + std::to_string(id)
      + " AND b.attempt = " + std::to_string(attempt)));
    auto expected = 100.0 * (1 << (attempt - 2));
    BOOST_TEST_CONTEXT("attempt " << attempt << " gap " << gap) {
      BOOST_TEST(gap >= expected * 0.95);
      BOOST_TEST(gap < expected * 1.1 + 400); // jitter <= 10% plus poll slack
    }
  }
}

// An unknown type is not a failure: it waits (job_types_pgtest.cpp).
BOOST_AUTO_TEST_CASE(a_bad_payload_fails_at_once_as_precondition_failed) {
  auto bad = enqueue(db, "sleep", R"({"ms":"soon"})", 5);
  node n{fast_node_config(), builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'failed'") == 1; },
    10s));
  n.stop();
  auto where = " WHERE id = " + std::to_string(bad);
  BOOST_TEST(value("SELECT last_error_code FROM leasehold.all_jobs" + where) == "precondition_failed");
  BOOST_TEST(value("SELECT attempts FROM leasehold.all_jobs" + where) == "1");
}

BOOST_AUTO_TEST_CASE(children_inherit_the_correlation_id_and_only_on_success) {
  auto handlers = builtin_handlers();
  handlers->add("parent", [](job_context& ctx) {
    ctx.enqueue("noop", {{"from", ctx.job_id()}});
    ctx.enqueue("noop", {{"from", ctx.job_id()}}, "other");
    return handler_result::success();
  });
  handlers->add("failing_parent", [](job_context& ctx) {
    ctx.enqueue("noop");
    return handler_result::invalid("no children for me");
  });
  new_job parent;
  parent.type = "parent";
  parent.correlation_id = "chain-42";
  auto parent_id = db.enqueue(parent);
  enqueue(db, "failing_parent");
  BOOST_REQUIRE(run_until_succeeded(fast_node_config(), handlers, 2, 10s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE parent_id = "
                   + std::to_string(parent_id) + " AND correlation_id = 'chain-42'") == 2);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE queue = 'other'") == 1);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 4);
}

// A job given no correlation id stores none, so it skips both correlation
// indexes (migration 014), and is known everywhere by job-<id>: to its
// handler, to its children, and to every lookup.
BOOST_AUTO_TEST_CASE(a_job_given_no_correlation_id_heads_a_chain_named_by_its_id) {
  auto handlers = builtin_handlers();
  auto seen = std::make_shared<std::string>();
  handlers->add("parent", [seen](job_context& ctx) {
    *seen = ctx.correlation_id();
    ctx.enqueue("noop");
    ctx.enqueue("noop");
    return handler_result::success();
  });
  auto parent_id = enqueue(db, "parent");
  auto dead_id = enqueue(db, "sleep", R"({"ms":"x"})"); // dies at its first attempt
  std::vector<new_job> bulk(2);
  bulk[0].type = bulk[1].type = "noop";
  auto bulk_ids = ids_of(db.enqueue_many(bulk));
  const auto parent_chain = "job-" + std::to_string(parent_id);
  const auto dead_chain = "job-" + std::to_string(dead_id);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE correlation_id IS NULL") == 4);

  node n{fast_node_config(), handlers};
  n.start();
  bool done = wait_until(
    [&] {
      return succeeded() == 5
             && count("SELECT count(*) FROM leasehold.jobs WHERE status = 'failed'") == 1;
    },
    10s);
  n.stop();
  BOOST_REQUIRE(done);
  BOOST_TEST(*seen == parent_chain);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE correlation_id = '"
                   + parent_chain + "' AND parent_id = " + std::to_string(parent_id)) == 2);
  auto chain = nlohmann::json::parse(db.chain_json(parent_chain));
  BOOST_REQUIRE(chain.size() == 3u);
  BOOST_TEST(chain[0]["id"] == parent_id);
  BOOST_TEST(chain[1]["parent_id"] == parent_id);
  BOOST_TEST(nlohmann::json::parse(*db.job_json(parent_id))["correlation_id"] == parent_chain);
  BOOST_TEST(nlohmann::json::parse(*db.job_json(bulk_ids[1]))["correlation_id"]
             == "job-" + std::to_string(bulk_ids[1]));
  BOOST_TEST(nlohmann::json::parse(db.chain_json("job-" + std::to_string(bulk_ids[0]))).size()
             == 1u);

  dead_jobs_filter filter;
  filter.correlation_id = dead_chain;
  auto dead = nlohmann::json::parse(db.dead_jobs_json(filter));
  BOOST_REQUIRE(dead["jobs"].size() == 1u);
  BOOST_TEST(dead["jobs"][0]["id"] == dead_id);
  BOOST_TEST(dead["jobs"][0]["correlation_id"] == dead_chain);
  filter.correlation_id = parent_chain; // the parent succeeded: not dead
  BOOST_TEST(nlohmann::json::parse(db.dead_jobs_json(filter))["jobs"].empty());
  // Only ids of the job-<digits> form name a job; others find nothing.
  for (const std::string& other : {"job-0" + std::to_string(parent_id), std::string{"job-"},
                                   std::string{"job-99999999999999999999"},
                                   "xjob-" + std::to_string(parent_id)})
    BOOST_TEST(nlohmann::json::parse(db.chain_json(other)).empty(), other);
  // Neither correlation index holds the jobs that store none.
  BOOST_TEST(count("SELECT count(*) FROM pg_indexes WHERE indexname IN"
                   " ('jobs_correlation_idx', 'job_runs_succeeded_correlation_idx')"
                   " AND indexdef LIKE '%correlation_id IS NOT NULL%'") == 2);
}

BOOST_AUTO_TEST_CASE(notify_wakes_an_idle_node_long_before_its_poll) {
  auto cfg = fast_node_config();
  cfg.poll_interval = 30s;
  node n{cfg, builtin_handlers()};
  n.start();
  std::this_thread::sleep_for(300ms); // let it go idle after the first poll
  auto id = enqueue(db, "noop");
  BOOST_TEST(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + std::to_string(id)) == "succeeded"; },
    3s));
  n.stop();
}

// Bulk enqueue writes by COPY, which must fire the same NOTIFY trigger, for
// every queue it writes to.
BOOST_AUTO_TEST_CASE(a_bulk_enqueue_wakes_an_idle_node_too) {
  auto cfg = fast_node_config();
  cfg.poll_interval = 30s;
  cfg.queues = {{"default", 4}, {"other", 4}};
  node n{cfg, builtin_handlers()};
  n.start();
  std::this_thread::sleep_for(300ms); // let it go idle after the first poll
  std::vector<new_job> jobs(6);
  for (auto& j : jobs)
    j.type = "noop";
  jobs[5].queue = "other";
  db.enqueue_many(jobs);
  BOOST_TEST(wait_until([&] { return succeeded() == 6; }, 3s));
  n.stop();
}

BOOST_AUTO_TEST_CASE(queues_and_priorities_are_respected) {
  new_job low;
  low.type = "noop";
  low.priority = 5;
  auto low_id = db.enqueue(low);
  new_job high = low;
  high.priority = -5;
  auto high_id = db.enqueue(high);
  new_job elsewhere = low;
  elsewhere.queue = "elsewhere";
  auto other_id = db.enqueue(elsewhere);
  auto cfg = fast_node_config();
  cfg.queues = {{"default", 1}};
  node n{cfg, builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return succeeded() == 2; },
    5s));
  std::this_thread::sleep_for(300ms);
  n.stop();
  BOOST_TEST(value("SELECT status FROM leasehold.all_jobs WHERE id = " + std::to_string(other_id)) == "queued");
  // Compared as timestamps by Postgres (Boost.Test compares std::string
  // operands of < as collections, not as text).
  auto started = [](int64_t id) {
    return "(SELECT started_at FROM leasehold.job_runs WHERE job_id = " + std::to_string(id) + ")";
  };
  BOOST_TEST(value("SELECT " + started(high_id) + " < " + started(low_id)) == "t");
}

BOOST_AUTO_TEST_CASE(a_succeeded_job_leaves_the_jobs_table_and_its_run_row_keeps_it) {
  new_job job;
  job.type = "noop";
  job.payload = R"({"to": "ada"})";
  job.correlation_id = "order-7";
  job.priority = 3;
  auto id = db.enqueue(job);
  auto dead = enqueue(db, "fail", R"({"message": "no"})", 1);
  BOOST_REQUIRE(run_until_succeeded(fast_node_config(), builtin_handlers(), 1, 10s));
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.jobs WHERE status = 'failed'") == 1; },
    5s));
  const auto sid = std::to_string(id);
  // The hot table keeps only the dead job; the success is one job_runs row
  // that carries the job.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE id = " + sid) == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE id = " + std::to_string(dead)) == 1);
  BOOST_TEST(value("SELECT type || ' ' || payload::text || ' ' || correlation_id || ' '"
                   " || priority || ' ' || outcome FROM leasehold.job_runs WHERE job_id = " + sid)
             == R"(noop {"to": "ada"} order-7 3 succeeded)");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE type IS NOT NULL"
                   " AND job_id = " + std::to_string(dead)) == 0);
  // Every reader still finds it.
  auto shown = nlohmann::json::parse(*db.job_json(id));
  BOOST_TEST(shown["status"] == "succeeded");
  BOOST_TEST(shown["payload"]["to"] == "ada");
  BOOST_TEST(shown["correlation_id"] == "order-7");
  BOOST_TEST(shown["attempts"] == 1);
  BOOST_TEST(!shown["finished_at"].is_null());
  BOOST_REQUIRE(shown["runs"].size() == 1u);
  BOOST_TEST(shown["runs"][0]["outcome"] == "succeeded");
  auto chain = nlohmann::json::parse(db.chain_json("order-7"));
  BOOST_REQUIRE(chain.size() == 1u);
  BOOST_TEST(chain[0]["id"] == id);
  BOOST_TEST(chain[0]["status"] == "succeeded");
  // Cancel and retry say it has succeeded, and change nothing.
  for (auto change : {db.cancel_job(id), db.retry_job(id)}) {
    BOOST_REQUIRE(change.has_value());
    BOOST_TEST(change->previous_status == "succeeded");
    BOOST_TEST(!change->changed);
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 1);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + sid) == 1);
}

BOOST_AUTO_TEST_CASE(every_migration_file_is_applied_in_its_numbered_place) {
  // 016's file once existed without its entry, so its index was never made.
  const auto& list = all_migrations();
  BOOST_REQUIRE(list.size() == std::size(migration_sql::file_names));
  for (size_t i = 0; i < list.size(); ++i) {
    char number[8];
    std::snprintf(number, sizeof number, "%03d_", list[i].version);
    BOOST_TEST(list[i].version == static_cast<int>(i) + 1);
    BOOST_TEST(std::string{migration_sql::file_names[i]}
               == std::string{number} + std::string{list[i].name});
  }
  BOOST_TEST(count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'leasehold'"
                   " AND indexname = 'job_runs_finished_brin'") == 1);
}

BOOST_AUTO_TEST_CASE(migration_011_moves_the_jobs_that_had_already_succeeded) {
  // Rebuild the schema as it was before migration 011, with one job of each
  // kind, then migrate.
  db.execute("DROP SCHEMA leasehold CASCADE");
  db.execute("CREATE SCHEMA leasehold");
  db.execute("CREATE TABLE leasehold.schema_migrations (version integer PRIMARY KEY,"
             " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
  for (const auto& m : all_migrations()) {
    if (m.version >= 11)
      continue;
    db.execute(std::string{m.text});
    db.execute("INSERT INTO leasehold.schema_migrations (version, name) VALUES ("
               + std::to_string(m.version) + ", 'before')");
  }
  db.execute("INSERT INTO leasehold.jobs (id, type, payload, status, attempts, locked_by,"
             " locked_at, finished_at, correlation_id, trace_id) OVERRIDING SYSTEM VALUE VALUES"
             " (1, 'mail', '{\"n\": 1}', 'succeeded', 2, 'w', now(), now(), 'c-1', 'w-1-2'),"
             " (2, 'mail', '{}', 'queued', 0, NULL, NULL, NULL, 'c-1', NULL),"
             " (3, 'mail', '{}', 'succeeded', 1, 'w', now(), now(), 'c-3', 'w-3-1'),"
             " (4, 'mail', '{}', 'succeeded', 1, 'w', now(), now(), 'c-4', 'w-4-1')");
  // Job 1 has the rows of both attempts; job 3 lost its row (it gets one);
  // job 4's row was left open (the job's status decides).
  db.execute("INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,"
             " started_at, finished_at, outcome, error) VALUES"
             " (1, 1, 'w', 'w-1-1', now(), now(), 'failed', 'first try'),"
             " (1, 2, 'w', 'w-1-2', now(), now(), 'succeeded', NULL),"
             " (4, 1, 'w', 'w-4-1', now(), NULL, NULL, NULL)"); // left open
  BOOST_TEST(db.migrate() == static_cast<int>(all_migrations().size()) - 10);
  BOOST_TEST(value("SELECT string_agg(id || status, ',' ORDER BY id) FROM leasehold.jobs")
             == "2queued");
  BOOST_TEST(value("SELECT string_agg(job_id || ':' || attempt || ':' || outcome || ':'"
                   " || coalesce(type || payload::text || correlation_id, '-'), ','"
                   " ORDER BY job_id, attempt) FROM leasehold.job_runs")
             == R"(1:1:failed:-,1:2:succeeded:mail{"n": 1}c-1,3:1:succeeded:mail{}c-3,)"
                R"(4:1:succeeded:mail{}c-4)");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE finished_at IS NULL") == 0);
  auto chain = nlohmann::json::parse(db.chain_json("c-1"));
  BOOST_REQUIRE(chain.size() == 2u);
  BOOST_TEST(chain[0]["status"] == "succeeded");
  BOOST_TEST(chain[0]["runs"].size() == 2u);
  BOOST_TEST(chain[1]["status"] == "queued");
}

BOOST_AUTO_TEST_SUITE_END()
