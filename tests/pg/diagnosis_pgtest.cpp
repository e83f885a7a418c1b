// The two-minute diagnosis: break things in every way /health knows about
// and check that each raises its alert, and that /dead-jobs and the chain
// lead to the cause.
#include <httplib.h>

#include <set>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// Two active singletons are impossible while the unique index exists; the
// alert guards against a schema that lost it. Restored however the test ends.
struct without_singleton_index {
  store& db;
  explicit without_singleton_index(store& s) : db(s) {
    db.execute("DROP INDEX leasehold.worker_instances_one_active_singleton");
  }
  ~without_singleton_index() {
    db.execute("DELETE FROM leasehold.worker_instances WHERE worker_type = 'cron'");
    db.execute("CREATE UNIQUE INDEX worker_instances_one_active_singleton"
               " ON leasehold.worker_instances (worker_type)"
               " WHERE singleton AND status IN ('STARTING', 'RUNNING')");
  }
};

void add_instance(store& db, const std::string& id, const std::string& type,
                  bool singleton, const std::string& status,
                  const std::string& version, const std::string& stopping_at = "NULL") {
  db.execute("INSERT INTO leasehold.worker_instances (worker_id, worker_type, singleton,"
             " status, hostname, pid, version, stopping_at) VALUES ('" + id + "', '" + type
             + "', " + (singleton ? "true" : "false") + ", '" + status + "', 'host-x', 42, '"
             + version + "', " + stopping_at + ")");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(diagnosis, pg_fixture)

BOOST_AUTO_TEST_CASE(each_failure_raises_its_alert_and_leads_to_its_cause) {
  auto handlers = builtin_handlers();
  auto cfg = fast_node_config();
  cfg.reap_interval = 1h; // keep the injected stuck job stuck
  cfg.stale_after = 1h;
  node n{cfg, handlers};
  n.start();

  // A stuck job: running, no heartbeat for an hour, on a queue nobody serves.
  db.execute("INSERT INTO leasehold.jobs (type, queue, status, attempts, locked_by,"
             " heartbeat_at, locked_at) VALUES ('export', 'nobody', 'running', 1,"
             " 'ghost-node', now() - interval '1 hour', now() - interval '1 hour')");
  // Not stuck: silent for ten minutes, but its owner's own lease TTL is an
  // hour (/health judges each owner by its terms, as leasehold verify does).
  db.execute("INSERT INTO leasehold.worker_instances (worker_id, worker_type, status,"
             " hostname, pid, version, lease_ttl_ms) VALUES ('patient-node', 'patient',"
             " 'RUNNING', 'h', 1, 'v1', 3600000)");
  db.execute("INSERT INTO leasehold.jobs (type, queue, status, attempts, locked_by,"
             " heartbeat_at, locked_at) VALUES ('export', 'nobody', 'running', 1,"
             " 'patient-node', now() - interval '10 minutes', now() - interval '10 minutes')");
  // Lag: a due job waiting for ten minutes, of a type no live node serves.
  db.execute("INSERT INTO leasehold.jobs (type, queue, run_at) VALUES"
             " ('report', 'nobody', now() - interval '10 minutes')");
  // Dead jobs: a chain whose child keeps failing, and five more.
  db.execute("INSERT INTO leasehold.jobs (id, type, status, correlation_id, attempts,"
             " finished_at) OVERRIDING SYSTEM VALUE VALUES (9001, 'checkout', 'succeeded',"
             " 'order-99', 1, now())");
  db.execute("INSERT INTO leasehold.jobs (type, status, correlation_id, parent_id, attempts,"
             " max_attempts, last_error, last_error_code, locked_by, finished_at)"
             " VALUES ('charge_card', 'failed', 'order-99', 9001, 3, 3, 'card declined',"
             " 'max_attempts_exceeded', 'worker-7', now())");
  for (int i = 0; i < 5; ++i)
    db.execute("INSERT INTO leasehold.jobs (type, status, attempts, last_error,"
               " last_error_code, finished_at) VALUES ('resize', 'failed', 1,"
               " 'no handler', 'precondition_failed', now())");
  // A node hung in STOPPING, two versions of one type, two active singletons.
  add_instance(db, "hung-1", "default", false, "STOPPING", "v1", "now() - interval '2 hours'");
  add_instance(db, "mailer-a", "mailer", false, "RUNNING", "v1");
  add_instance(db, "mailer-b", "mailer", false, "RUNNING", "v2");
  without_singleton_index guard{db};
  add_instance(db, "cron-a", "cron", true, "RUNNING", "v1");
  add_instance(db, "cron-b", "cron", true, "RUNNING", "v1");
  // A trace-policy violation.
  db.execute("INSERT INTO leasehold.policy_violations (job_id, attempt, worker_id, policy,"
             " detail) VALUES (9001, 1, 'worker-7', 'trace_id_required', 'test')");

  httplib::Client http{"127.0.0.1", n.http_port()};
  auto res = http.Get("/health");
  BOOST_REQUIRE(res);
  auto h = nlohmann::json::parse(res->body);
  std::set<std::string> codes;
  for (const auto& a : h["alerts"])
    codes.insert(a["code"].get<std::string>() + "/" + a["severity"].get<std::string>());
  for (auto expected : {"STUCK_JOBS/critical", "UNOWNED_LEASES/critical",
                        "QUEUE_LAG/critical", "SINGLETON_CONFLICT/critical",
                        "HUNG_STOPPING/critical", "DEAD_JOBS/warning", "VERSION_DRIFT/warning",
                        "POLICY_VIOLATIONS/warning", "UNSERVED_TYPE/warning"})
    BOOST_TEST(codes.count(expected) == 1u, expected << " in " << h["alerts"].dump());
  BOOST_TEST(h["status"] == "critical");
  BOOST_TEST(h["stuck_count"] == 1);
  BOOST_TEST(h["unowned_count"] == 1); // ghost-node never registered
  BOOST_TEST(h["unowned_jobs"][0]["worker"] == "ghost-node");
  BOOST_TEST(h["dead_last_24h"] == 6);
  BOOST_TEST(h["estimated_lag_seconds"].get<double>() >= 599.0);
  BOOST_TEST(h["workers"]["hung_stopping_ids"][0] == "hung-1");

  // From the alert to the cause: the dead jobs, then the failing chain.
  auto dead = nlohmann::json::parse(http.Get("/dead-jobs?limit=10")->body);
  BOOST_TEST(dead["summary"]["total_dead"] == 6);
  BOOST_TEST(dead["summary"]["by_reason"]["precondition_failed"] == 5);
  BOOST_TEST(dead["summary"]["by_type"]["charge_card"] == 1);
  nlohmann::json card;
  for (const auto& j : dead["jobs"])
    if (j["type"] == "charge_card")
      card = j;
  BOOST_REQUIRE(card.is_object());
  BOOST_TEST(card["last_error"] == "card declined");
  BOOST_TEST(card["worker"] == "worker-7");
  auto chain = nlohmann::json::parse(
    http.Get(("/jobs?correlation_id=" + card["correlation_id"].get<std::string>()).c_str())->body);
  BOOST_REQUIRE(chain.size() == 2u);
  BOOST_TEST(chain[0]["type"] == "checkout");
  BOOST_TEST(chain[1]["parent_id"] == 9001);

  // The CLI tells the same story, from the database and from the node.
  auto cli = run({leasehold_bin(), "health"}, {{"DATABASE_URL", test_dsn()}});
  BOOST_TEST(cli.exit_code == 2); // critical
  BOOST_TEST(cli.out.find("STUCK_JOBS") != std::string::npos, cli.out);
  auto remote = run({leasehold_bin(), "health", "--json", "--url",
                     "http://127.0.0.1:" + std::to_string(n.http_port())});
  BOOST_TEST(nlohmann::json::parse(remote.out)["alerts"].size() == 9u);
  auto cli_dead = run({leasehold_bin(), "dead-jobs", "--type", "charge_card"},
                      {{"DATABASE_URL", test_dsn()}});
  BOOST_TEST(nlohmann::json::parse(cli_dead.out)["summary"]["total_dead"] == 1);
  auto cli_chain = run({leasehold_bin(), "chain", "order-99", "--url",
                        "http://127.0.0.1:" + std::to_string(n.http_port())});
  BOOST_TEST(nlohmann::json::parse(cli_chain.out).size() == 2u);
  n.stop();
}

BOOST_AUTO_TEST_SUITE_END()
