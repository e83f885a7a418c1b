// Fenced ownership: a stale owner never writes, and the loss shows up as a
// supervised ownership_lost exit.
#include <atomic>

#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// A handler that runs until cancelled (or `limit`), recording what it saw.
struct watched_sleep {
  std::atomic<bool> started{false};
  std::atomic<bool> saw_cancel{false};
  std::atomic<bool> finished{false};

  handler_fn fn(std::chrono::milliseconds limit) {
    return [this, limit](job_context& ctx) {
      started = true;
      bool completed = ctx.sleep_for(limit);
      saw_cancel = !completed;
      finished = true;
      return handler_result::success();
    };
  }
};

int64_t lost_count(node& n) {
  auto s = n.stats();
  auto i = s.supervised_failures.find("ownership_lost");
  return i == s.supervised_failures.end() ? 0 : i->second;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(ownership, pg_fixture)

BOOST_AUTO_TEST_CASE(a_stolen_lease_ends_the_executor_and_the_old_owner_writes_nothing) {
  watched_sleep probe;
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("long", probe.fn(3s));
  auto id = std::to_string(enqueue(db, "long"));
  auto cfg = fast_node_config();
  cfg.lease_ttl = 60s; // keep the reaper out of this test
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return probe.started.load(); }, 5s));
  db.execute("UPDATE leasehold.jobs SET locked_by = 'thief', updated_at = now()"
             " WHERE id = " + id);
  auto stolen_at = value("SELECT updated_at FROM leasehold.all_jobs WHERE id = " + id);
  // The next heartbeat finds the lease gone: executor ends, supervisor counts.
  BOOST_REQUIRE(wait_until([&] { return lost_count(n) == 1; }, 3s));
  BOOST_TEST(wait_until([&] { return probe.saw_cancel.load(); }, 1s));
  BOOST_TEST(n.stats().in_flight == 0);
  std::this_thread::sleep_for(500ms);
  n.stop();
  // Nothing more was written for that attempt.
  BOOST_TEST(value("SELECT status || '/' || locked_by || '/' || updated_at"
                   " FROM leasehold.all_jobs WHERE id = " + id)
             == "running/thief/" + stolen_at);
  // The old owner's attempt has no run row: only a statement that ends the
  // attempt under its lease writes one, and the lease had moved.
  BOOST_TEST(value("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + id) == "0");
}

BOOST_AUTO_TEST_CASE(a_completion_after_the_lease_moved_is_fenced_out) {
  // A slow heartbeat, so the guarded write is what notices the loss.
  watched_sleep probe;
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("short", probe.fn(400ms));
  auto id = std::to_string(enqueue(db, "short"));
  auto cfg = fast_node_config();
  cfg.heartbeat_interval = 30s;
  cfg.lease_ttl = 60s;
  cfg.stale_after = 90s;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return probe.started.load(); }, 5s));
  // Another attempt now owns the job (as after a rescue and re-claim).
  db.execute("UPDATE leasehold.jobs SET attempts = attempts + 1,"
             " locked_by = 'other-node' WHERE id = " + id);
  BOOST_REQUIRE(wait_until([&] { return lost_count(n) == 1; }, 3s));
  n.stop();
  BOOST_TEST(probe.finished.load());
  BOOST_TEST(!probe.saw_cancel.load()); // it finished, then the write failed
  BOOST_TEST(value("SELECT status || '/' || attempts || '/' || locked_by"
                   " FROM leasehold.all_jobs WHERE id = " + id)
             == "running/2/other-node");
  // The old owner's attempt has no run row: only a statement that ends the
  // attempt under its lease writes one, and the lease had moved.
  BOOST_TEST(value("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + id) == "0");
}

// Regression: a node holding a stale attempt and the new attempt of the same
// job must end and count each one on its own.
BOOST_AUTO_TEST_CASE(a_stale_and_a_new_attempt_of_one_job_on_one_node_are_told_apart) {
  std::atomic<bool> first_started{false};
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("twice", [&](job_context& ctx) {
    if (ctx.attempt() == 1) {
      first_started = true;
      std::this_thread::sleep_for(1s); // ignores cancellation on purpose
    }
    return handler_result::success();
  });
  auto id = std::to_string(enqueue(db, "twice"));
  auto cfg = fast_node_config();
  cfg.heartbeat_interval = 30s; // only the guarded write can notice
  cfg.lease_ttl = 60s;
  cfg.stale_after = 90s;
  cfg.reap_interval = 1h;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return first_started.load(); }, 5s));
  // The lease moves to a new attempt, which this same node claims and runs.
  db.execute("UPDATE leasehold.jobs SET status = 'queued', locked_by = NULL WHERE id = " + id);
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "succeeded"; }, 5s));
  BOOST_REQUIRE(wait_until([&] { return lost_count(n) == 1; }, 5s));
  BOOST_TEST(n.stats().in_flight == 0);
  BOOST_TEST(value("SELECT attempts FROM leasehold.all_jobs WHERE id = " + id) == "2");
  n.stop();
}

// The running attempt lives in the job row; its job_runs row is written once,
// by the statement that ends it (migration 009). Readers show it meanwhile.
BOOST_AUTO_TEST_CASE(a_running_attempt_is_shown_from_the_job_row_and_recorded_when_it_ends) {
  watched_sleep first, second;
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("long", first.fn(30s));
  handlers->add("short", second.fn(300ms));
  auto cancelled = enqueue(db, "long");
  auto finished = enqueue(db, "short");
  auto cfg = fast_node_config();
  cfg.lease_ttl = 60s;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return first.started.load() && second.started.load(); }, 5s));
  auto running = nlohmann::json::parse(*db.job_json(cancelled));
  BOOST_REQUIRE(running["runs"].size() == 1u);
  BOOST_TEST(running["runs"][0]["attempt"] == 1);
  BOOST_TEST(running["runs"][0]["worker_id"] == n.worker_id());
  BOOST_TEST(running["runs"][0]["outcome"].is_null());
  BOOST_TEST(running["runs"][0]["finished_at"].is_null());
  BOOST_TEST(!running["runs"][0]["started_at"].is_null());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs") == 0);

  // Ended by success: exactly one row, the one the reader showed.
  BOOST_REQUIRE(wait_until([&] { return second.finished.load(); }, 5s));
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 1; }, 5s));
  auto done = nlohmann::json::parse(*db.job_json(finished));
  BOOST_REQUIRE(done["runs"].size() == 1u);
  BOOST_TEST(done["runs"][0]["outcome"] == "succeeded");
  BOOST_TEST(done["runs"][0]["worker_id"] == n.worker_id());

  // Ended by a cancel: the cancel writes the owner's attempt as cancelled,
  // and the executor's later write is fenced out (no second row).
  BOOST_REQUIRE(db.cancel_job(cancelled).has_value());
  BOOST_REQUIRE(wait_until([&] { return lost_count(n) == 1; }, 5s));
  n.stop();
  const auto id = std::to_string(cancelled);
  BOOST_TEST(value("SELECT string_agg(attempt || ':' || outcome || ':' || worker_id, ',')"
                   " FROM leasehold.job_runs WHERE job_id = " + id)
             == "1:cancelled:" + n.worker_id());
  BOOST_TEST(value("SELECT count(*) FROM leasehold.job_runs WHERE started_at IS NULL"
                   " OR finished_at IS NULL") == "0");
  auto after = nlohmann::json::parse(*db.job_json(cancelled));
  BOOST_TEST(after["runs"].size() == 1u);
  BOOST_TEST(after["status"] == "cancelled");
}

BOOST_AUTO_TEST_CASE(an_expired_lease_is_rescued_and_run_again_elsewhere) {
  // A job left running by a node that died: heartbeat far in the past.
  auto id = std::to_string(enqueue(db, "noop"));
  db.execute("UPDATE leasehold.jobs SET status = 'running', attempts = 1,"
             " locked_by = 'dead-node', heartbeat_at = now() - interval '1 hour'"
             " WHERE id = " + id);
  auto handlers = builtin_handlers();
  auto cfg = fast_node_config();
  cfg.retry_base = 10ms;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "succeeded"; },
    5s));
  n.stop();
  BOOST_TEST(value("SELECT outcome || '/' || worker_id FROM leasehold.job_runs"
                   " WHERE attempt = 1 AND job_id = " + id) == "expired/dead-node");
  BOOST_TEST(value("SELECT outcome FROM leasehold.job_runs WHERE attempt = 2 AND job_id = " + id)
             == "succeeded");
}

BOOST_AUTO_TEST_CASE(an_expired_lease_with_no_attempts_left_dies_with_ttl_exceeded) {
  auto id = std::to_string(enqueue(db, "noop", "{}", 1));
  db.execute("UPDATE leasehold.jobs SET status = 'running', attempts = 1,"
             " locked_by = 'dead-node', heartbeat_at = now() - interval '1 hour'"
             " WHERE id = " + id);
  auto handlers = std::make_shared<handler_registry>();
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "failed"; },
    5s));
  n.stop();
  BOOST_TEST(value("SELECT last_error_code FROM leasehold.all_jobs WHERE id = " + id)
             == "ttl_exceeded");
  BOOST_TEST(value("SELECT attempt || ':' || outcome || ':' || worker_id"
                   " FROM leasehold.job_runs WHERE job_id = " + id) == "1:expired:dead-node");
}

// A row set to running by hand, with no owner or start time, must not stop
// the reaper: it is rescued like any other, and its run row says so.
BOOST_AUTO_TEST_CASE(a_running_row_without_owner_is_rescued_too) {
  auto odd = std::to_string(enqueue(db, "noop"));
  auto normal = std::to_string(enqueue(db, "noop"));
  db.execute("UPDATE leasehold.jobs SET status = 'running', attempts = 1,"
             " heartbeat_at = now() - interval '1 hour' WHERE id = " + odd);
  db.execute("UPDATE leasehold.jobs SET status = 'running', attempts = 1, locked_by = 'dead-node',"
             " locked_at = now() - interval '2 hours', heartbeat_at = now() - interval '1 hour'"
             " WHERE id = " + normal);
  auto cfg = fast_node_config();
  cfg.retry_base = 10ms;
  BOOST_REQUIRE(run_until_succeeded(cfg, builtin_handlers(), 2, 5s));
  BOOST_TEST(value("SELECT outcome || ':' || worker_id FROM leasehold.job_runs"
                   " WHERE attempt = 1 AND job_id = " + odd) == "expired:unknown");
  BOOST_TEST(value("SELECT outcome || ':' || worker_id || ':' || (started_at < now() - interval '1 hour')"
                   " FROM leasehold.job_runs WHERE attempt = 1 AND job_id = " + normal)
             == "expired:dead-node:true");
}

BOOST_AUTO_TEST_SUITE_END()
