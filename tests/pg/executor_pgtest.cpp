// One executor actor runs attempt after attempt; a loss reported for an
// attempt whose outcome is with the writer must not end it (the heartbeat's
// snapshot can race a completion), while a loss or stop deadline for the
// running attempt still ends it as a supervised failure. The writer answers
// the run request itself. Real Postgres, real persistence actor; the
// supervisor is the probe.
#include <atomic>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/executor_actor.hpp"
#include "messages/errors.hpp"
#include "messages/registration.hpp"
#include "persistence/persistence_actor.hpp"
#include "runtime/handler_pool.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

const std::string worker = "executor-test-worker";

struct caf_env {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf_env() {
    register_messages(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

struct executor_fixture : pg_fixture {
  caf_env env;
  caf::scoped_actor probe{*env.sys};
  std::atomic<bool> hold_cancelled{false};
  std::shared_ptr<handler_pool> pool = std::make_shared<handler_pool>(2);
  persistence_actor writer;
  executor_actor exec;

  executor_fixture() {
    register_worker(db, worker);
    auto handlers = std::make_shared<handler_registry>();
    handlers->add("noop", [](job_context&) { return handler_result::success(); },
                  handler_mode::non_blocking);
    // Runs on the pool until its attempt is cancelled.
    handlers->add("hold", [this](job_context& ctx) {
      ctx.sleep_for(10s);
      hold_cancelled = ctx.cancelled();
      return handler_result::success();
    });
    persistence_config pc;
    pc.database_url = test_dsn();
    pc.worker_id = worker;
    writer = env.sys->spawn<caf::detached>(persistence_actor_impl, pc);
    auto cfg = std::make_shared<executor_config>();
    cfg->worker_id = worker;
    cfg->handlers = handlers;
    cfg->pool = pool;
    exec = env.sys->spawn(executor_actor_impl, std::shared_ptr<const executor_config>{cfg},
                          writer, std::make_shared<handler_watch>(caf::actor_addr{}));
    probe->monitor(exec);
  }

  ~executor_fixture() {
    probe->send_exit(exec, caf::exit_reason::user_shutdown);
    probe->send_exit(writer, caf::exit_reason::user_shutdown);
  }

  claimed_job claim_one(const std::string& type) {
    enqueue(db, type);
    auto jobs = db.claim(worker, "default", 1, {type});
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    return jobs.front();
  }

  // Asks the executor to run `job`, as the supervisor does.
  auto run(const claimed_job& job) {
    return probe->request(exec, 10s, run_atom::value,
                          std::make_shared<const claimed_job>(job));
  }

  // The answer to a run request: "written succeeded", "fenced_out", or the
  // error's label ("ownership_lost", ...).
  template <class Handle>
  std::string answer(Handle& request) {
    std::string text;
    request.receive(
      [&](const written_outcome& w) {
        auto r = static_cast<write_result>(w.result);
        text = r == write_result::fenced_out ? "fenced_out"
               : w.kind == job_outcome::succeeded ? "written succeeded"
                                                  : "written other";
      },
      [&](caf::error& err) { text = reason_label(err); });
    return text;
  }

  // The executor's exit reason, or none if it is still alive after `wait`.
  std::optional<std::string> exit_within(std::chrono::milliseconds wait) {
    std::optional<std::string> reason;
    probe->receive([&](caf::down_msg& dm) { reason = reason_label(dm.reason); },
                   caf::after(wait) >> [] {});
    return reason;
  }
};

// Holds the job's row for `hold` from another connection, with `sql` (a
// data-modifying or locking CTE named l) run first, so that a completion of
// that job waits for it.
std::thread hold_row(const std::string& sql, std::chrono::milliseconds hold) {
  return std::thread{[sql, hold] {
    store other{test_dsn()};
    other.execute("WITH l AS (" + sql + ") SELECT pg_sleep("
                  + std::to_string(hold.count() / 1000.0) + ") FROM l");
  }};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(executor, executor_fixture)

BOOST_AUTO_TEST_CASE(one_executor_runs_attempt_after_attempt_and_ignores_a_late_loss) {
  auto first = claim_one("noop");
  auto first_run = run(first);
  BOOST_REQUIRE_EQUAL(answer(first_run), "written succeeded");
  // The first attempt is written; a loss reported for it now is late news
  // and must not end the executor.
  probe->send(exec, lost_atom::value, lease_ref{first.id, first.attempt});
  BOOST_TEST(!exit_within(300ms).has_value());
  // The same executor runs the next attempt, and writes it.
  auto second = claim_one("noop");
  auto second_run = run(second);
  BOOST_TEST(answer(second_run) == "written succeeded");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'"
                   " AND worker_id = '" + worker + "'") == 2);
}

BOOST_AUTO_TEST_CASE(a_loss_of_the_running_attempt_ends_the_executor_and_cancels_it) {
  auto held = claim_one("hold");
  auto request = run(held);
  std::this_thread::sleep_for(200ms);
  // A loss for another attempt of the same job is not this one's.
  probe->send(exec, lost_atom::value, lease_ref{held.id, held.attempt + 1});
  BOOST_TEST(!exit_within(300ms).has_value());
  probe->send(exec, lost_atom::value, lease_ref{held.id, held.attempt});
  auto reason = exit_within(5s);
  BOOST_REQUIRE(reason.has_value());
  BOOST_TEST(*reason == "ownership_lost");
  // The run request is answered with the exit reason, not left hanging.
  BOOST_TEST(answer(request) == "ownership_lost");
  BOOST_TEST(wait_until([&] { return hold_cancelled.load(); }, 5s));
  // Nothing was written for the lost attempt.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = "
                   + std::to_string(held.id)) == 0);
}

BOOST_AUTO_TEST_CASE(a_loss_reported_while_the_outcome_is_written_waits_for_the_write) {
  // A renewal that runs after the completion deleted the job reports it
  // lost; if the completion wrote, nothing was lost.
  auto job = claim_one("noop");
  auto id = std::to_string(job.id);
  auto holder = hold_row("SELECT id FROM leasehold.jobs WHERE id = " + id + " FOR UPDATE", 1500ms);
  std::this_thread::sleep_for(300ms);
  auto request = run(job); // its completion now waits for the row
  std::this_thread::sleep_for(300ms);
  probe->send(exec, lost_atom::value, lease_ref{job.id, job.attempt});
  BOOST_TEST(!exit_within(300ms).has_value());
  holder.join();
  BOOST_TEST(answer(request) == "written succeeded");
  BOOST_TEST(!exit_within(300ms).has_value());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + id) == 1);
}

// The executor leaves a fenced-out write to the supervisor, which hears the
// answer and ends it (pg.ownership checks that end on a node).
BOOST_AUTO_TEST_CASE(a_loss_reported_while_writing_is_settled_by_the_fenced_write) {
  auto job = claim_one("noop");
  auto id = std::to_string(job.id);
  auto holder = hold_row("UPDATE leasehold.jobs SET locked_by = 'thief' WHERE id = " + id
                         + " RETURNING id", 1500ms);
  std::this_thread::sleep_for(300ms);
  auto request = run(job);
  std::this_thread::sleep_for(300ms);
  probe->send(exec, lost_atom::value, lease_ref{job.id, job.attempt});
  holder.join();
  BOOST_TEST(answer(request) == "fenced_out");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + id) == 0);
}

BOOST_AUTO_TEST_CASE(a_stop_deadline_ends_the_running_attempt_with_stopping_timeout) {
  auto held = claim_one("hold");
  auto request = run(held);
  std::this_thread::sleep_for(200ms);
  probe->send(exec, deadline_atom::value, lease_ref{held.id, held.attempt});
  auto reason = exit_within(5s);
  BOOST_REQUIRE(reason.has_value());
  BOOST_TEST(*reason == "stopping_timeout");
  BOOST_TEST(answer(request) == "stopping_timeout");
  BOOST_TEST(wait_until([&] { return hold_cancelled.load(); }, 5s));
}

BOOST_AUTO_TEST_SUITE_END()
