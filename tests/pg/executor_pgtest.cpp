// One executor actor runs attempt after attempt; a loss or stop deadline
// reported for an attempt whose outcome is already written must not end it
// (the heartbeat's snapshot can race a completion), while one for the running
// attempt still ends it as a supervised failure. Real Postgres, real
// persistence actor; the supervisor is a probe that records what it is told.
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
  caf::actor supervisor;
  executor_actor exec;

  executor_fixture() {
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
    // The supervisor's side of the protocol: forward each outcome to the probe.
    caf::actor forward_to = probe;
    supervisor = env.sys->spawn([forward_to](caf::event_based_actor*) -> caf::behavior {
      return {[forward_to](outcome_atom, const std::string& label, bool) {
        caf::anon_send(forward_to, label);
      }};
    });
    auto cfg = std::make_shared<executor_config>();
    cfg->worker_id = worker;
    cfg->handlers = handlers;
    cfg->pool = pool;
    exec = env.sys->spawn(executor_actor_impl, std::shared_ptr<const executor_config>{cfg},
                          writer, caf::actor_cast<supervisor_actor>(supervisor));
    probe->monitor(exec);
  }

  ~executor_fixture() {
    probe->send_exit(exec, caf::exit_reason::user_shutdown);
    probe->send_exit(writer, caf::exit_reason::user_shutdown);
    probe->send_exit(supervisor, caf::exit_reason::user_shutdown);
  }

  claimed_job claim_one(const std::string& type) {
    enqueue(db, type);
    auto jobs = db.claim(worker, "default", 1);
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    return jobs.front();
  }

  // The next outcome label the executor reported, or "" after 5s.
  std::string next_outcome() {
    std::string label;
    probe->receive([&](const std::string& l) { label = l; },
                   caf::after(5s) >> [] {});
    return label;
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
  probe->send(exec, run_atom::value, first);
  BOOST_REQUIRE_EQUAL(next_outcome(), "succeeded");
  // The first attempt is written; a loss and a deadline reported for it now
  // are late news and must not end the executor.
  probe->send(exec, lost_atom::value, lease_ref{first.id, first.attempt});
  probe->send(exec, deadline_atom::value, lease_ref{first.id, first.attempt});
  BOOST_TEST(!exit_within(300ms).has_value());
  // The same executor runs the next attempt, and writes it.
  auto second = claim_one("noop");
  probe->send(exec, run_atom::value, second);
  BOOST_TEST(next_outcome() == "succeeded");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'"
                   " AND worker_id = '" + worker + "'") == 2);
}

BOOST_AUTO_TEST_CASE(a_loss_of_the_running_attempt_ends_the_executor_and_cancels_it) {
  auto held = claim_one("hold");
  probe->send(exec, run_atom::value, held);
  std::this_thread::sleep_for(200ms);
  // A loss for another attempt of the same job is not this one's.
  probe->send(exec, lost_atom::value, lease_ref{held.id, held.attempt + 1});
  BOOST_TEST(!exit_within(300ms).has_value());
  probe->send(exec, lost_atom::value, lease_ref{held.id, held.attempt});
  auto reason = exit_within(5s);
  BOOST_REQUIRE(reason.has_value());
  BOOST_TEST(*reason == "ownership_lost");
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
  probe->send(exec, run_atom::value, job); // its completion now waits for the row
  std::this_thread::sleep_for(300ms);
  probe->send(exec, lost_atom::value, lease_ref{job.id, job.attempt});
  BOOST_TEST(!exit_within(300ms).has_value());
  holder.join();
  BOOST_TEST(next_outcome() == "succeeded");
  BOOST_TEST(!exit_within(300ms).has_value());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + id) == 1);
}

BOOST_AUTO_TEST_CASE(a_loss_reported_while_writing_ends_the_executor_when_the_write_is_fenced) {
  auto job = claim_one("noop");
  auto id = std::to_string(job.id);
  auto holder = hold_row("UPDATE leasehold.jobs SET locked_by = 'thief' WHERE id = " + id
                         + " RETURNING id", 1500ms);
  std::this_thread::sleep_for(300ms);
  probe->send(exec, run_atom::value, job);
  std::this_thread::sleep_for(300ms);
  probe->send(exec, lost_atom::value, lease_ref{job.id, job.attempt});
  holder.join();
  auto reason = exit_within(5s);
  BOOST_REQUIRE(reason.has_value());
  BOOST_TEST(*reason == "ownership_lost");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + id) == 0);
}

BOOST_AUTO_TEST_CASE(a_stop_deadline_ends_the_running_attempt_with_stopping_timeout) {
  auto held = claim_one("hold");
  probe->send(exec, run_atom::value, held);
  std::this_thread::sleep_for(200ms);
  probe->send(exec, deadline_atom::value, lease_ref{held.id, held.attempt});
  auto reason = exit_within(5s);
  BOOST_REQUIRE(reason.has_value());
  BOOST_TEST(*reason == "stopping_timeout");
  BOOST_TEST(wait_until([&] { return hold_cancelled.load(); }, 5s));
}

BOOST_AUTO_TEST_SUITE_END()
