// A node claims only the job types it has handlers for: a job of a type no
// live node serves stays queued, /health names it, and a node that knows the
// type runs it when it comes. A payload the handler rejects still fails at
// once with precondition_failed.
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "runtime/health.hpp"
#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// True when some node of the plan (EXPLAIN FORMAT JSON) reads `index`.
bool uses_index(const nlohmann::json& node, const std::string& index) {
  if (node.is_array()) {
    for (const auto& n : node)
      if (uses_index(n, index))
        return true;
    return false;
  }
  if (!node.is_object())
    return false;
  if (node.value("Index Name", "") == index)
    return true;
  for (const auto& key : {"Plan", "Plans"})
    if (node.contains(key) && uses_index(node[key], index))
      return true;
  return false;
}

// The alerts of /health as the CLI and the observer compute them.
nlohmann::json health(store& db) {
  auto h = nlohmann::json::parse(db.health_json(observe_thresholds{}));
  add_alerts(h, alert_thresholds{});
  return h;
}

const nlohmann::json* find_alert(const nlohmann::json& h, const std::string& code) {
  for (const auto& a : h["alerts"])
    if (a["code"] == code)
      return &a;
  return nullptr;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(job_types, pg_fixture)

BOOST_AUTO_TEST_CASE(an_unknown_type_waits_queued_and_a_bad_payload_still_fails_at_once) {
  auto unknown = std::to_string(enqueue(db, "resize_image", "{}", 5));
  auto bad = std::to_string(enqueue(db, "sleep", R"({"ms":"soon"})", 5));
  node old_node{fast_node_config(), builtin_handlers()};
  old_node.start();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + bad) == "failed"; },
    10s));
  BOOST_TEST(value("SELECT last_error_code FROM leasehold.all_jobs WHERE id = " + bad)
             == "precondition_failed");
  // Many polls later, the job of the unknown type was never touched.
  std::this_thread::sleep_for(600ms);
  BOOST_TEST(value("SELECT status || ' ' || attempts FROM leasehold.all_jobs WHERE id = "
                   + unknown) == "queued 0");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + unknown) == 0);

  // A node that knows the type arrives (a rolling deploy) and runs it.
  auto handlers = builtin_handlers();
  handlers->add("resize_image", [](job_context&) { return handler_result::success(); });
  node new_node{fast_node_config(), handlers};
  new_node.start();
  BOOST_TEST(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + unknown)
                   == "succeeded"; }, 10s));
  BOOST_TEST(value("SELECT worker_id FROM leasehold.job_runs WHERE job_id = " + unknown)
             == new_node.worker_id());
  new_node.stop();
  old_node.stop();
}

BOOST_AUTO_TEST_CASE(a_node_records_the_types_it_serves_in_its_instance_metadata) {
  auto handlers = builtin_handlers();
  handlers->add("checkout", [](job_context&) { return handler_result::success(); });
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_TEST(value("SELECT metadata->'job_types' FROM leasehold.worker_instances"
                   " WHERE worker_id = '" + n.worker_id() + "'")
             == R"(["checkout", "echo", "fail", "fanout", "noop", "sleep"])");
  n.stop();
}

BOOST_AUTO_TEST_CASE(health_names_a_type_no_live_node_serves) {
  enqueue(db, "resize_image");
  enqueue(db, "resize_image");
  db.execute("UPDATE leasehold.jobs SET run_at = now() - interval '90 seconds'");
  // Served, but not due yet: not an alert.
  db.execute("INSERT INTO leasehold.jobs (type, run_at) VALUES ('noop', now() + interval '1 hour')");
  // Not served and not due yet: nothing has waited, no alert either.
  db.execute("INSERT INTO leasehold.jobs (type, run_at) VALUES ('later', now() + interval '1 hour')");
  node n{fast_node_config(), builtin_handlers()};
  n.start();
  auto h = health(db);
  auto* alert = find_alert(h, "UNSERVED_TYPE");
  BOOST_REQUIRE_MESSAGE(alert != nullptr, h["alerts"].dump());
  BOOST_TEST((*alert)["severity"] == "warning");
  auto message = (*alert)["message"].get<std::string>();
  BOOST_TEST(message.find("'resize_image'") != std::string::npos, message);
  BOOST_TEST(message.find("2 queued job(s)") != std::string::npos, message);
  BOOST_TEST(message.find("oldest waiting 9") != std::string::npos, message); // 90.x s
  BOOST_TEST(h["unserved_types"].size() == 1u, h["unserved_types"].dump());
  n.stop();

  // A stopped node serves nothing: with none live, every due type is unserved.
  enqueue(db, "noop");
  h = health(db);
  BOOST_TEST(h["unserved_types"].size() == 2u, h["unserved_types"].dump());
}

BOOST_AUTO_TEST_CASE(the_claim_filters_types_on_the_claim_index) {
  db.execute("INSERT INTO leasehold.jobs (type) SELECT CASE WHEN i % 2 = 0 THEN 'noop'"
             " ELSE 'other' END FROM generate_series(1, 20000) AS i");
  db.execute("ANALYZE leasehold.jobs");
  for (const char* plans : {"auto", "force_generic_plan"}) {
    BOOST_TEST_CONTEXT("plan_cache_mode " << plans) {
      db.execute(std::string{"SET plan_cache_mode = "} + plans);
      db.execute("PREPARE plan_me(text, text, integer, smallint, timestamptz, bigint, text[])"
                 " AS " + read_sql("job_claim.sql"));
      auto plan = nlohmann::json::parse(value(
        "EXPLAIN (FORMAT JSON) EXECUTE plan_me('w', 'default', 10, -32768, '-infinity', 0,"
        " '{noop,fail}')"));
      BOOST_TEST(uses_index(plan, "jobs_claim_idx"), plan.dump());
      db.execute("DEALLOCATE plan_me");
      db.execute("RESET plan_cache_mode");
    }
  }
  register_worker(db, "w");
  auto jobs = db.claim("w", "default", 10, {"other"});
  BOOST_TEST(jobs.size() == 10u);
  for (const auto& j : jobs)
    BOOST_TEST(j.type == "other");
  BOOST_TEST(db.claim("w", "default", 10, {"nobody's \"type\", {odd}"}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
