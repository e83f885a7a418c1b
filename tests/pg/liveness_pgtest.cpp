// Fair liveness and fencing at the statements themselves: owners judged by
// their own terms, silence the reaper did not watch counts for nothing, a
// revoked worker id claims and writes nothing, renewals never deadlock with
// completions, jobs held under a node's name but run by no attempt of it
// go back, one poisoned outcome fails alone, and a crashed writer leaves no
// attempt waiting forever.
#include <atomic>
#include <cstdlib>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "messages/registration.hpp"
#include "persistence/persistence_actor.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

constexpr int64_t an_hour_ms = 3600 * 1000;

// A rescue sweep with a 2s TTL and stale threshold by a reaper that
// watched the database for `observed_ms`. Postgres's own uptime caps that
// window, so the sweep first waits until the server has been up for 3s.
rescue_reply sweep(store& db, int64_t observed_ms = an_hour_ms) {
  wait_until([&] {
    return db.query_value("SELECT now() - pg_postmaster_start_time() > interval '3s'")
             .value_or("") == "t";
  }, 5s);
  return db.rescue_expired({2000, 10, 10, 2000, 60000, observed_ms});
}

// Marks `n` queued jobs running under `worker`, heartbeats `age` old.
void hold_jobs(store& db, const std::string& worker, int n, const std::string& age) {
  db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = '" + worker
             + "', attempts = 1, locked_at = now(), heartbeat_at = now() - interval '" + age
             + "' WHERE id IN (SELECT id FROM leasehold.jobs WHERE status = 'queued'"
               " ORDER BY id LIMIT " + std::to_string(n) + ")");
  db.execute("UPDATE leasehold.worker_instances SET last_heartbeat_at = now() - interval '"
             + age + "' WHERE worker_id = '" + worker + "'");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(liveness, pg_fixture)

BOOST_AUTO_TEST_CASE(a_node_connection_never_waits_without_bound) {
  store node_conn{test_dsn(), statement_plans::generic, wait_limits::bounded};
  BOOST_TEST(node_conn.query_value("SHOW lock_timeout").value_or("") == "2s");
  BOOST_TEST(node_conn.query_value("SHOW statement_timeout").value_or("") == "15s");
  BOOST_TEST(node_conn.query_value("SHOW idle_in_transaction_session_timeout").value_or("")
             == "5s");
  BOOST_TEST(node_conn.query_value("SHOW tcp_user_timeout").value_or("") == "20000");
  BOOST_TEST(with_keepalives("postgresql://u@h/db") ==
             "postgresql://u@h/db?keepalives=1&keepalives_idle=10&keepalives_interval=5"
             "&keepalives_count=2&tcp_user_timeout=20000");
  BOOST_TEST(with_keepalives("host=h dbname=db").find(" keepalives_idle=10") != std::string::npos);
  BOOST_TEST(with_keepalives("postgresql://u@h/db?keepalives=0")
             == "postgresql://u@h/db?keepalives=0&tcp_user_timeout=20000");
  BOOST_TEST(with_keepalives("host=h tcp_user_timeout=5000").find("20000") == std::string::npos);
  // A lock held by another session: the node's statement gives up, as busy.
  register_worker(db, "w");
  auto id = std::to_string(enqueue(db, "noop"));
  std::thread holder([&] {
    store s{test_dsn()};
    s.execute("UPDATE leasehold.jobs SET payload = payload WHERE id = " + id
              + "; SELECT pg_sleep(3)");
  });
  std::this_thread::sleep_for(300ms);
  auto started = std::chrono::steady_clock::now();
  BOOST_CHECK_THROW(node_conn.execute("UPDATE leasehold.jobs SET priority = 1 WHERE id = " + id),
                    store_busy);
  BOOST_CHECK(std::chrono::steady_clock::now() - started < 2500ms);
  holder.join();
}

BOOST_AUTO_TEST_CASE(each_owner_is_judged_by_its_own_terms) {
  register_worker(db, "patient", {120000, 120000, 60000}); // --lease-ttl 2m
  register_worker(db, "default", {2000, 2000, 60000});
  for (int i = 0; i < 4; ++i)
    enqueue(db, "sleep");
  hold_jobs(db, "patient", 2, "40 seconds");
  hold_jobs(db, "default", 2, "40 seconds");
  auto reply = sweep(db); // a reaper with a 2s TTL
  BOOST_TEST(reply.jobs.size() == 2u);
  BOOST_TEST(reply.instances == std::vector<std::string>{"default"});
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'"
                   " AND locked_by = 'patient'") == 2);
  BOOST_TEST(value("SELECT status FROM leasehold.worker_instances WHERE worker_id = 'patient'")
             == "RUNNING");
}

BOOST_AUTO_TEST_CASE(silence_the_reaper_did_not_watch_is_nobodys_fault) {
  register_worker(db, "quiet", {2000, 2000, 60000});
  enqueue(db, "sleep");
  hold_jobs(db, "quiet", 1, "5 minutes");
  // Back from an outage, the reaper has watched for 1s: not enough to
  // judge a 2s TTL, however old the heartbeats are.
  auto blind = sweep(db, 1000);
  BOOST_TEST(blind.jobs.empty());
  BOOST_TEST(blind.instances.empty());
  auto watching = sweep(db, 2500);
  BOOST_TEST(watching.jobs.size() == 1u);
  BOOST_TEST(watching.instances == std::vector<std::string>{"quiet"});
}

BOOST_AUTO_TEST_CASE(a_live_owners_stale_job_is_left_to_its_owner) {
  // The owner renews its registration but could not renew this job (its
  // row was locked by another session): not the owner's fault.
  register_worker(db, "blocked", {2000, 2000, 60000});
  enqueue(db, "sleep");
  hold_jobs(db, "blocked", 1, "5 minutes");
  db.execute("UPDATE leasehold.worker_instances SET last_heartbeat_at = now()");
  BOOST_TEST(sweep(db).jobs.empty());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'") == 1);
}

BOOST_AUTO_TEST_CASE(a_revoked_worker_id_claims_renews_and_writes_nothing) {
  register_worker(db, "revoked");
  enqueue(db, "noop");
  enqueue(db, "noop");
  auto held = db.claim("revoked", "default", 1, {"noop", "sleep"});
  BOOST_REQUIRE_EQUAL(held.size(), 1u);
  db.execute("UPDATE leasehold.worker_instances SET status = 'STOPPED', stopped_at = now()");
  BOOST_TEST(db.claim("revoked", "default", 5, {"noop", "sleep"}).empty());
  lease_ref lease{held[0].id, held[0].attempt};
  auto renewed = db.renew("revoked", {lease});
  BOOST_TEST(renewed.instance_lost);
  BOOST_TEST(renewed.lost.size() == 1u);
  job_outcome done;
  done.lease = lease;
  BOOST_TEST(!db.complete("revoked", {done}, trace_policy{})[0].written);
  job_outcome failed = done;
  failed.kind = job_outcome::retry;
  failed.error = "late";
  BOOST_TEST(!db.complete("revoked", {failed}, trace_policy{})[0].written);
  BOOST_TEST(db.release("revoked", {lease}, "stopping_timeout").empty());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs") == 0);
  // Reapers give its jobs back at once: it can write nothing any more.
  BOOST_TEST(sweep(db, 0).jobs.size() == 1u);
}

BOOST_AUTO_TEST_CASE(jobs_held_under_our_name_but_run_by_no_attempt_go_back) {
  // A claim whose reply timed out: the jobs are running under our worker id
  // but no executor runs them, and reapers leave a live owner's jobs alone.
  register_worker(db, "forgetful", {1000, 30000, 60000});
  for (int i = 0; i < 3; ++i)
    enqueue(db, "noop");
  auto claimed = db.claim("forgetful", "default", 3, {"noop", "sleep"});
  BOOST_REQUIRE_EQUAL(claimed.size(), 3u);
  lease_ref known{claimed[0].id, claimed[0].attempt};
  // Just claimed: not given back, its reply may still be on its way.
  BOOST_TEST(db.renew("forgetful", {known}, {1000, 30000, 60000}).abandoned.empty());
  db.execute("UPDATE leasehold.jobs SET heartbeat_at = now() - interval '2 seconds'");
  auto reply = db.renew("forgetful", {known}, {1000, 30000, 60000});
  BOOST_TEST(reply.abandoned.size() == 2u);
  BOOST_TEST(reply.lost.empty());
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'queued'"
                   " AND last_error_code = 'lease_expired'") == 2);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'expired'") == 2);
  BOOST_TEST(value("SELECT status FROM leasehold.jobs WHERE id = "
                   + std::to_string(known.job_id)) == "running");
}

BOOST_AUTO_TEST_CASE(renewals_and_completions_over_the_same_rows_never_deadlock) {
  register_worker(db, "w");
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 300)");
  std::vector<lease_ref> leases;
  std::vector<job_outcome> outcomes;
  for (int64_t id = 1; id <= 300; ++id) {
    leases.push_back({id, 1});
    job_outcome o;
    o.lease = {id, 1};
    o.kind = job_outcome::retry;
    o.error = "again";
    o.error_code = "handler_error";
    outcomes.insert(outcomes.begin(), o); // the opposite order
  }
  store renewer{test_dsn(), statement_plans::generic, wait_limits::bounded};
  store writer{test_dsn(), statement_plans::generic, wait_limits::bounded};
  std::atomic<int> errors{0};
  std::string first_error;
  for (int round = 0; round < 40; ++round) {
    db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = 'w', attempts = 1,"
               " locked_at = now(), heartbeat_at = now()");
    std::atomic<bool> go{false};
    std::thread a([&] {
      while (!go) {
      }
      try {
        renewer.renew("w", leases);
      } catch (const std::exception& e) {
        if (errors++ == 0)
          first_error = e.what();
      }
    });
    std::thread b([&] {
      while (!go) {
      }
      try {
        writer.complete("w", outcomes, trace_policy{});
      } catch (const std::exception& e) {
        if (errors++ == 0)
          first_error = e.what();
      }
    });
    go = true;
    a.join();
    b.join();
    db.execute("DELETE FROM leasehold.job_runs");
  }
  BOOST_TEST(errors.load() == 0, first_error);
}

BOOST_AUTO_TEST_CASE(one_poisoned_outcome_in_a_batch_fails_alone) {
  register_worker(db, "w");
  for (int i = 0; i < 6; ++i)
    enqueue(db, "noop");
  auto jobs = db.claim("w", "default", 6, {"noop", "sleep"});
  BOOST_REQUIRE_EQUAL(jobs.size(), 6u);
  caf::actor_system_config sys_cfg;
  register_messages(sys_cfg);
  caf::actor_system sys{sys_cfg};
  persistence_config pc;
  pc.database_url = test_dsn();
  pc.worker_id = "w";
  pc.waits = wait_limits::bounded;
  auto writer = sys.spawn<caf::detached>(persistence_actor_impl, pc);
  caf::scoped_actor self{sys};
  // The first outcome's row is locked for a moment, so the next five
  // arrive while it waits and go out together in one batch.
  std::thread holder([&] {
    store s{test_dsn()};
    s.execute("UPDATE leasehold.jobs SET payload = payload WHERE id = "
              + std::to_string(jobs[0].id) + "; SELECT pg_sleep(0.5)");
  });
  std::this_thread::sleep_for(100ms);
  std::vector<decltype(self->request(writer, 10s, complete_atom::value, job_outcome{}))>
    replies;
  for (size_t i = 0; i < jobs.size(); ++i) {
    job_outcome o;
    o.lease = {jobs[i].id, jobs[i].attempt};
    o.kind = job_outcome::retry;
    o.error_code = "handler_error";
    // A tail cut inside a UTF-8 sequence: Postgres cannot store it.
    o.error = i == 3 ? std::string{"disk full \xe2\x96"} : "failure " + std::to_string(i);
    replies.push_back(self->request(writer, 10s, complete_atom::value, o));
  }
  int written = 0;
  for (auto& reply : replies)
    reply.receive([&](const written_outcome& w) { written += w.result == 0 ? 1 : 0; },
                  [&](caf::error&) {});
  holder.join();
  self->send_exit(writer, caf::exit_reason::user_shutdown);
  BOOST_TEST(written == 6);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE status = 'queued'"
                   " AND last_error LIKE 'failure %'") == 5);
  auto poisoned = std::to_string(jobs[3].id);
  BOOST_TEST(value("SELECT last_error_code FROM leasehold.jobs WHERE id = " + poisoned)
             == "outcome_rejected");
  BOOST_TEST(value("SELECT last_error FROM leasehold.jobs WHERE id = " + poisoned)
               .find("outcome could not be written") == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'failed'") == 6);
}

BOOST_AUTO_TEST_CASE(a_crashed_writer_leaves_no_attempt_waiting_forever) {
  std::vector<new_job> jobs(4);
  for (auto& j : jobs) {
    j.type = "sleep";
    j.payload = R"({"ms":600})";
  }
  db.enqueue_many(jobs);
  auto cfg = fast_node_config();
  node n{cfg, builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return n.stats().in_flight == 4; }, 10s));
  // The attempts finish while Postgres is down: their outcomes wait in the
  // writer, which then crashes.
  pg_local("stop");
  std::this_thread::sleep_for(1000ms);
  n.crash_core_actor(4); // the writer
  std::this_thread::sleep_for(300ms);
  pg_local("start");
  store after{test_dsn()};
  auto succeeded = [&] {
    try {
      return std::stoll(after.query_value("SELECT count(*) FROM leasehold.all_jobs"
                                          " WHERE status = 'succeeded'").value_or("0"));
    } catch (const std::exception&) {
      return 0LL;
    }
  };
  BOOST_TEST(wait_until([&] { return succeeded() == 4; }, 20s));
  auto stats = n.stats();
  BOOST_TEST(stats.in_flight == 0);
  BOOST_TEST(stats.supervised_failures["outcome_unwritten"] == 4);
  n.stop();
}

BOOST_AUTO_TEST_SUITE_END()
