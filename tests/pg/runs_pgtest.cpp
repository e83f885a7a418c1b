// Runs: counts are derived from the partitions' own rows, so they can never
// drift; retries are atomic and idempotent; stale attempts cannot write; a
// run completes exactly once.
#include <atomic>
#include <random>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "persistence/sql_statements.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

run_spec make_run(const std::string& type, int partitions, int32_t max_attempts,
                  const std::string& payload = "{}") {
  run_spec spec;
  spec.type = type;
  spec.on_complete_type = "run_done";
  spec.max_attempts = max_attempts;
  for (int i = 0; i < partitions; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "p%03d", i);
    spec.partitions.push_back({key, payload});
  }
  return spec;
}

// The run's reported counts (the production run_get query, as the API and
// dashboard see them) against a direct count of its partition rows, and
// completed_at against whether anything is still open: in ONE statement, so
// both sides see the same snapshot even while nodes are writing.
void check_consistent(pg_fixture& pg, int64_t run) {
  auto id = std::to_string(run);
  std::string view{sql::run_get};
  for (auto [param, literal] : {std::pair<std::string, std::string>{"$2::boolean", "false"},
                                 {"$1", id}})
    for (auto at = view.find(param); at != std::string::npos; at = view.find(param))
      view.replace(at, param.size(), literal);
  auto verdict = pg.value(
    "WITH api AS (SELECT (" + view + ")::jsonb AS doc),"
    " direct AS (SELECT jsonb_build_object('queued', count(*) FILTER (WHERE status = 'queued'),"
    "   'running', count(*) FILTER (WHERE status = 'running'),"
    "   'succeeded', count(*) FILTER (WHERE status = 'succeeded'),"
    "   'failed', count(*) FILTER (WHERE status = 'failed'),"
    "   'cancelled', count(*) FILTER (WHERE status = 'cancelled'),"
    "   'expected', count(*)) AS counts,"
    "   count(*) FILTER (WHERE status IN ('queued', 'running')) > 0 AS open"
    "   FROM leasehold.all_jobs WHERE run_id = " + id + "),"
    " done AS (SELECT count(*) AS n FROM leasehold.all_jobs WHERE type = 'run_done'"
    "   AND payload->>'run_id' = '" + id + "')"
    " SELECT CASE WHEN api.doc->'counts' <> direct.counts"
    "   THEN 'counts differ: ' || (api.doc->'counts')::text || ' vs ' || direct.counts::text"
    "   WHEN (api.doc->>'completed_at' IS NULL) <> direct.open"
    "   THEN 'completed_at wrong: ' || api.doc::text"
    "   WHEN done.n > 1 THEN 'on-complete job enqueued ' || done.n || ' times'"
    "   ELSE 'ok' END FROM api, direct, done");
  BOOST_TEST(verdict == "ok");
}

std::string run_status(pg_fixture& pg, int64_t run) {
  return nlohmann::json::parse(*pg.db.run_json(run, false))["status"];
}

std::shared_ptr<handler_registry> run_handlers() {
  auto h = builtin_handlers();
  h->add("run_done", [](job_context&) { return handler_result::success(); });
  // Fails its first attempt when the payload says so.
  h->add("flaky", [](job_context& ctx) {
    if (ctx.payload().value("fail_first", false) && ctx.attempt() == 1)
      return handler_result::failure("flaky first attempt");
    return handler_result::success();
  });
  return h;
}

// The message of the error `sql` raises, "" when it succeeds.
std::string error_of(store& db, const std::string& sql) {
  try {
    db.execute(sql);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(runs, pg_fixture)

BOOST_AUTO_TEST_CASE(a_failed_partition_is_retried_and_counts_stay_consistent) {
  auto spec = make_run("flaky", 20, 1);
  spec.partitions[7].payload = R"({"fail_first":true})";
  auto run = db.create_run(spec);
  check_consistent(*this, run);
  node n{fast_node_config(), run_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] {
    check_consistent(*this, run);
    return run_status(*this, run) == "partial";
  }, 10s));
  auto r = nlohmann::json::parse(*db.run_json(run, true));
  BOOST_TEST(r["counts"]["failed"] == 1);
  BOOST_TEST(r["partitions"][7]["last_error"] == "flaky first attempt");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE type = 'run_done'") == 1);
  auto keys = db.retry_run(run, std::string{"p007"});
  BOOST_TEST(keys->size() == 1u);
  BOOST_REQUIRE(wait_until([&] {
    check_consistent(*this, run);
    return run_status(*this, run) == "completed";
  }, 10s));
  n.stop();
  // The on-complete job ran once, in the run's chain, and is not repeated.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs j JOIN leasehold.runs r"
                   " ON j.correlation_id = r.correlation_id WHERE j.type = 'run_done'") == 1);
}

BOOST_AUTO_TEST_CASE(two_retries_queue_a_partition_once_even_concurrently) {
  auto run = db.create_run(make_run("noop", 3, 1));
  for (int round = 0; round < 10; ++round) {
    db.execute("UPDATE leasehold.jobs SET status = 'failed', attempts = 1"
               " WHERE run_id = " + std::to_string(run));
    if (round == 0) { // one after the other
      BOOST_TEST(db.retry_run(run, std::string{"p001"})->size() == 1u);
      BOOST_TEST(db.retry_run(run, std::string{"p001"})->empty());
    } else { // two connections at once
      std::atomic<int> queued{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 2; ++t)
        threads.emplace_back([&] {
          store own{test_dsn()};
          queued += static_cast<int>(own.retry_run(run, std::string{"p001"})->size());
        });
      for (auto& t : threads)
        t.join();
      BOOST_TEST(queued == 1);
    }
    BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'queued' AND run_id = "
                     + std::to_string(run)) == 1);
    check_consistent(*this, run);
  }
  // Retrying a queued or succeeded partition changes nothing.
  BOOST_TEST(db.retry_run(run, std::string{"p001"})->empty());
  BOOST_TEST(!db.retry_run(run + 1000, std::nullopt).has_value());
}

BOOST_AUTO_TEST_CASE(a_stale_attempt_cannot_write_after_its_partition_moved) {
  std::atomic<bool> started{false};
  auto handlers = run_handlers();
  handlers->add("slow_first", [&](job_context& ctx) {
    if (ctx.attempt() == 1) {
      started = true;
      std::this_thread::sleep_for(1500ms); // ignores cancellation on purpose
    }
    return handler_result::success();
  });
  auto run = db.create_run(make_run("slow_first", 1, 3));
  auto slow = fast_node_config();
  slow.heartbeat_interval = 30s; // A does not notice; its late write must fail
  slow.lease_ttl = 60s;
  slow.stale_after = 90s;
  slow.reap_interval = 1h;
  slow.concurrency = 1; // busy with attempt 1, so node B takes attempt 2
  node a{slow, handlers};
  a.start();
  BOOST_REQUIRE(wait_until([&] { return started.load(); }, 5s));
  // Re-lease: A's registration is revoked (as others do once it falls
  // silent), B's reaper requeues the partition at once, B runs it.
  db.execute("UPDATE leasehold.worker_instances SET status = 'STOPPED'"
             " WHERE worker_id = '" + a.worker_id() + "'");
  node b{fast_node_config(), handlers};
  b.start();
  BOOST_REQUIRE(wait_until([&] {
    check_consistent(*this, run);
    return run_status(*this, run) == "completed";
  }, 5s));
  // A finishes later; its success is refused and counted as ownership loss.
  BOOST_REQUIRE(wait_until([&] { return a.stats().supervised_failures["ownership_lost"] == 1; }, 5s));
  check_consistent(*this, run);
  auto id = value("SELECT id FROM leasehold.all_jobs WHERE run_id = " + std::to_string(run));
  BOOST_TEST(value("SELECT string_agg(attempt || ':' || outcome, ',' ORDER BY attempt)"
                   " FROM leasehold.job_runs WHERE job_id = " + id) == "1:expired,2:succeeded");
  BOOST_TEST(value("SELECT locked_by FROM leasehold.all_jobs WHERE id = " + id) == b.worker_id());
  a.stop();
  b.stop();
}

BOOST_AUTO_TEST_CASE(several_failures_of_one_partition_count_once) {
  auto run = db.create_run(make_run("fail", 2, 3));
  node n{fast_node_config(), run_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] {
    check_consistent(*this, run);
    return run_status(*this, run) == "failed";
  }, 10s));
  n.stop();
  auto r = nlohmann::json::parse(*db.run_json(run, true));
  BOOST_TEST(r["counts"]["failed"] == 2);
  BOOST_TEST(r["partitions"][0]["attempts"] == 3);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs r JOIN leasehold.all_jobs j"
                   " ON j.id = r.job_id WHERE j.run_id = " + std::to_string(run)) == 6);
}

BOOST_AUTO_TEST_CASE(the_last_two_partitions_finishing_together_complete_the_run_once) {
  std::atomic<int> arrived{0};
  auto handlers = run_handlers();
  // Both partitions return at the same moment, on two nodes.
  handlers->add("barrier", [&](job_context&) {
    ++arrived;
    while (arrived.load() % 2 != 0)
      std::this_thread::sleep_for(100us);
    return handler_result::success();
  });
  auto cfg = fast_node_config();
  cfg.concurrency = 1;
  node a{cfg, handlers};
  node b{cfg, handlers};
  a.start();
  b.start();
  for (int round = 0; round < 8; ++round) {
    auto spec = make_run("barrier", 2, 1);
    auto run = db.create_run(spec);
    BOOST_REQUIRE(wait_until([&] { return run_status(*this, run) == "completed"; }, 5s));
    BOOST_TEST(!nlohmann::json::parse(*db.run_json(run, false))["completed_at"].is_null());
    BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE type = 'run_done'"
                     " AND payload->>'run_id' = '" + std::to_string(run) + "'") == 1);
    BOOST_TEST(count("SELECT count(DISTINCT locked_by) FROM leasehold.all_jobs WHERE run_id = "
                     + std::to_string(run)) == 2);
  }
  a.stop();
  b.stop();
}

BOOST_AUTO_TEST_CASE(random_failures_retries_and_steals_never_make_counts_drift) {
  // Simulated workers drive the store directly, in random order; after every
  // step the run's counts must equal a count of its partitions' rows.
  auto run = db.create_run(make_run("noop", 300, 3));
  std::mt19937 rng{20261124};
  std::vector<std::string> workers = {"w-a", "w-b", "w-c"};
  // Never presumed dead (stale after a day); a lease expires after 1s.
  for (const auto& w : workers)
    register_worker(db, w, {1000, 86400000, 3600000});
  std::map<std::string, std::vector<lease_ref>> held;
  trace_policy policy;
  int fenced = 0;
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>{0, n - 1}(rng); };
  for (int step = 0; step < 1500; ++step) {
    auto& w = workers[pick(workers.size())];
    auto& mine = held[w];
    switch (pick(6)) {
      case 0: { // claim a few
        for (auto& j : db.claim(w, "default", static_cast<int32_t>(1 + pick(5)), {"noop"}))
          mine.push_back({j.id, j.attempt});
        break;
      }
      case 1:
      case 2: { // finish one: success, retryable failure or final failure
        if (mine.empty())
          break;
        auto i = pick(mine.size());
        job_outcome o;
        o.lease = mine[i];
        o.kind = static_cast<int32_t>(pick(3));
        o.error = "random failure";
        o.error_code = "handler_error";
        if (!db.complete(w, {o}, policy)[0].written)
          ++fenced;
        mine.erase(mine.begin() + static_cast<long>(i));
        break;
      }
      case 3: { // steal: one running partition's lease expires and is rescued
        // Its owner fell silent too: a live owner's jobs are never taken.
        db.execute("WITH victim AS (UPDATE leasehold.jobs"
                   " SET heartbeat_at = now() - interval '1 hour'"
                   " WHERE id = (SELECT id FROM leasehold.all_jobs WHERE status = 'running'"
                   " ORDER BY random() LIMIT 1) RETURNING locked_by)"
                   " UPDATE leasehold.worker_instances SET last_heartbeat_at = now() - interval '1 hour'"
                   " WHERE worker_id IN (SELECT locked_by FROM victim)");
        db.rescue_expired({1000, 0, 0, 3600000, 3600000, 86400000});
        break;
      }
      case 4: { // retry all failed partitions, or one key
        if (pick(2) == 0)
          db.retry_run(run, std::nullopt);
        else
          db.retry_run(run, "p" + std::to_string(100 + pick(200)).substr(0, 3));
        break;
      }
      default: { // a stale holder writes: refused unless it still owns it
        if (mine.empty())
          break;
        job_outcome o;
        o.lease = mine.front();
        o.kind = job_outcome::succeeded;
        auto before = value("SELECT status FROM leasehold.all_jobs WHERE id = "
                            + std::to_string(o.lease.job_id));
        bool owned = count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'running' AND id = "
                           + std::to_string(o.lease.job_id) + " AND locked_by = '" + w
                           + "' AND attempts = " + std::to_string(o.lease.attempt)) == 1;
        BOOST_TEST(db.complete(w, {o}, policy)[0].written == owned, before);
        if (!owned)
          ++fenced;
        mine.erase(mine.begin());
        break;
      }
    }
    check_consistent(*this, run);
  }
  BOOST_TEST_MESSAGE("fenced-out writes: " << fenced);
  BOOST_TEST(fenced > 0);
}

// Migration 013 replaced the foreign key from jobs.run_id with triggers that
// plain jobs skip; the rule is the same: a job's run exists, and a run with
// jobs cannot be deleted.
BOOST_AUTO_TEST_CASE(a_job_names_only_a_run_that_exists_and_keeps_it) {
  auto id = std::to_string(db.create_run(make_run("noop", 2, 1)));
  auto missing = std::to_string(std::stoll(id) + 1000);
  BOOST_TEST(error_of(db, "INSERT INTO leasehold.jobs (type, run_id, partition_key)"
                          " VALUES ('noop', " + missing + ", 'x')")
             .find("run " + missing + ", which does not exist") != std::string::npos);
  BOOST_TEST(error_of(db, "UPDATE leasehold.jobs SET run_id = " + missing
                          + " WHERE run_id = " + id)
             .find("does not exist") != std::string::npos);
  BOOST_TEST(error_of(db, "INSERT INTO leasehold.jobs (type, run_id, partition_key)"
                          " VALUES ('noop', " + id + ", 'extra')") == "");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE run_id = " + id) == 3);
  BOOST_TEST(error_of(db, "DELETE FROM leasehold.runs WHERE id = " + id)
             .find("run " + id + " still has jobs") != std::string::npos);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.runs WHERE id = " + id) == 1);
  // Without its jobs it can go.
  db.execute("DELETE FROM leasehold.jobs WHERE run_id = " + id);
  BOOST_TEST(error_of(db, "DELETE FROM leasehold.runs WHERE id = " + id) == "");
  // A job without a run goes in as before.
  BOOST_TEST(error_of(db, "INSERT INTO leasehold.jobs (type) VALUES ('noop')") == "");
}

BOOST_AUTO_TEST_CASE(a_run_deleted_while_a_job_for_it_goes_in_leaves_no_orphan) {
  // Another connection adds a job to a run and keeps its transaction open
  // for a second; meanwhile this one deletes the run's jobs and the run.
  // Checked before the delete (the job's run is locked), the delete must
  // wait and fail; checked after it (at the end of a longer statement), the
  // insert must fail.
  struct order {
    const char* insert_then_wait;
    bool insert_wins;
  };
  for (const auto& o : {order{"INSERT INTO leasehold.jobs (type, run_id, partition_key)"
                              " VALUES ('noop', $run, 'late'); SELECT pg_sleep(1)", true},
                        order{"WITH j AS (INSERT INTO leasehold.jobs (type, run_id, partition_key)"
                              " VALUES ('noop', $run, 'late') RETURNING id)"
                              " SELECT pg_sleep(1) FROM j", false}}) {
    auto id = std::to_string(db.create_run(make_run("noop", 1, 1)));
    std::string sql = o.insert_then_wait;
    sql.replace(sql.find("$run"), 4, id);
    BOOST_TEST_CONTEXT(sql) {
      std::string insert_error = "not run";
      std::thread other{[&] {
        store conn{test_dsn()};
        insert_error = error_of(conn, sql);
      }};
      std::this_thread::sleep_for(300ms);
      auto delete_error = error_of(db, "DELETE FROM leasehold.jobs WHERE run_id = " + id
                                       + "; DELETE FROM leasehold.runs WHERE id = " + id);
      other.join();
      BOOST_TEST(insert_error.empty() == o.insert_wins, insert_error);
      BOOST_TEST(delete_error.empty() == !o.insert_wins, delete_error);
      BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs AS j WHERE run_id IS NOT NULL AND NOT"
                       " EXISTS (SELECT 1 FROM leasehold.runs AS r WHERE r.id = j.run_id)") == 0);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
