// The observer's HTTP bridge against a running node: every endpoint, every
// error status, auth, hostile parameters, and the diagnosis path.
#include <httplib.h>

#include <atomic>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* token = "s3cret-token";

// A running node with its HTTP bridge on a free port.
struct observed_node : pg_fixture {
  std::shared_ptr<handler_registry> handlers = std::make_shared<handler_registry>();
  std::unique_ptr<node> n;
  std::unique_ptr<httplib::Client> http;

  observed_node() {
    add_builtin_handlers(*handlers);
    handlers->add("parent", [](job_context& ctx) {
      ctx.enqueue("fail", {{"message", "child broke"}}, "", 0, 2);
      return handler_result::success();
    });
  }

  void start(node_config cfg = fast_node_config()) {
    if (cfg.http_token.empty())
      cfg.http_token = token;
    n = std::make_unique<node>(cfg, handlers);
    n->start();
    BOOST_REQUIRE(n->http_port() > 0);
    http = std::make_unique<httplib::Client>("127.0.0.1", n->http_port());
  }

  ~observed_node() {
    if (n)
      n->stop();
  }

  nlohmann::json get_json(const std::string& path, int expect = 200) {
    auto res = http->Get(path.c_str());
    BOOST_REQUIRE(res);
    BOOST_TEST(res->status == expect, path << " -> " << res->status << " " << res->body);
    BOOST_TEST(res->get_header_value("Content-Type").find("application/json") == 0u);
    return nlohmann::json::parse(res->body);
  }

  httplib::Result post(const std::string& path, const std::string& body = "{}",
                       const std::string& bearer = token) {
    httplib::Headers h;
    if (!bearer.empty())
      h.emplace("Authorization", "Bearer " + bearer);
    return http->Post(path.c_str(), h, body, "application/json");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(observer_http, observed_node)

BOOST_AUTO_TEST_CASE(every_read_endpoint_answers_with_live_figures) {
  new_job parent;
  parent.type = "parent";
  parent.correlation_id = "order-7";
  auto parent_id = db.enqueue(parent);
  enqueue(db, "noop");
  start();
  BOOST_REQUIRE(wait_until([&] {
    return count("SELECT count(*) FROM leasehold.all_jobs WHERE status IN ('succeeded','failed')") == 3;
  }, 10s));

  auto h = get_json("/health");
  for (auto key : {"jobs_queued", "jobs_processing", "stuck_count", "dead_last_24h",
                   "estimated_lag_seconds", "runtime_version", "workers",
                   "policy_violations_last_24h", "supervised_failures", "alerts"})
    BOOST_TEST(h.contains(key), key);
  BOOST_TEST(h["workers"]["active"] == 1);
  BOOST_TEST(h["dead_last_24h"] == 1);
  BOOST_TEST(h["node"]["worker_id"] == n->worker_id());

  auto workers = get_json("/workers");
  BOOST_REQUIRE(workers.size() == 1u);
  BOOST_TEST(workers[0]["worker_id"] == n->worker_id());

  auto job = get_json("/jobs/" + std::to_string(parent_id));
  BOOST_TEST(job["status"] == "succeeded");
  BOOST_TEST(job["runs"].size() == 1u);

  auto chain = get_json("/jobs?correlation_id=order-7");
  BOOST_REQUIRE(chain.size() == 2u);
  BOOST_TEST(chain[0]["id"] == parent_id); // creation order
  BOOST_TEST(chain[1]["parent_id"] == parent_id);
  BOOST_TEST(chain[1]["status"] == "failed");

  auto dead = get_json("/dead-jobs?type=fail&correlation_id=order-7");
  BOOST_TEST(dead["summary"]["total_dead"] == 1);
  BOOST_TEST(dead["summary"]["by_reason"]["max_attempts_exceeded"] == 1);
  BOOST_TEST(dead["jobs"][0]["last_error"] == "child broke");
  BOOST_TEST(dead["jobs"][0]["worker"] == n->worker_id());
  BOOST_TEST(dead["jobs"][0]["trace_id"].is_string());
  BOOST_TEST(get_json("/dead-jobs?type=noop")["summary"]["total_dead"] == 0);

  auto metrics = http->Get("/metrics");
  BOOST_REQUIRE(metrics);
  BOOST_TEST(metrics->status == 200);
  for (auto line : {"leasehold_jobs_claimed_total ", "leasehold_jobs_completed_total{outcome=\"succeeded\"} 2",
                    "leasehold_ownership_lost_total 0", "leasehold_lease_renewals_total",
                    "leasehold_policy_violations_total 0", "leasehold_claim_duration_seconds_bucket",
                    "leasehold_job_duration_seconds_count 4", "leasehold_supervised_failures_total",
                    "leasehold_executors_spawned_total "})
    BOOST_TEST(metrics->body.find(line) != std::string::npos, line);

  auto page = http->Get("/");
  BOOST_REQUIRE(page);
  BOOST_TEST(page->status == 200);
  BOOST_TEST(page->body.find("<title>leasehold</title>") != std::string::npos);
  BOOST_TEST(page->body.find("http://") == std::string::npos); // no external assets
}

BOOST_AUTO_TEST_CASE(writes_enqueue_retry_and_cancel_idempotently) {
  start();
  auto created = post("/jobs", R"({"type":"fail","payload":{"message":"no"},"max_attempts":1})");
  BOOST_REQUIRE(created);
  BOOST_TEST(created->status == 201, created->body);
  auto id = nlohmann::json::parse(created->body)["id"].get<int64_t>();
  auto path = "/jobs/" + std::to_string(id);
  BOOST_REQUIRE(wait_until([&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = "
                                               + std::to_string(id)) == "failed"; }, 5s));
  // Two concurrent retries: exactly one queues it.
  std::atomic<int> ok{0}, conflict{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&] {
      httplib::Client c{"127.0.0.1", n->http_port()};
      auto r = c.Post((path + "/retry").c_str(), {{"Authorization", std::string{"Bearer "} + token}},
                      "", "application/json");
      (r && r->status == 200 ? ok : conflict)++;
    });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(ok == 1);
  BOOST_TEST(conflict == 1);
  BOOST_REQUIRE(wait_until([&] { return value("SELECT attempts FROM leasehold.all_jobs WHERE id = "
                                               + std::to_string(id)) == "2"; }, 5s));
  // Dead again after its one extra attempt; a retry of a queued job says so.
  auto queued = post("/jobs", R"({"type":"noop","run_at":"2999-01-01T00:00:00Z"})");
  auto queued_id = nlohmann::json::parse(queued->body)["id"].get<int64_t>();
  auto again = post("/jobs/" + std::to_string(queued_id) + "/retry");
  BOOST_TEST(again->status == 409);
  BOOST_TEST(nlohmann::json::parse(again->body)["message"] == "nothing to retry: the job is queued");
  auto cancel = post("/jobs/" + std::to_string(queued_id) + "/cancel");
  BOOST_TEST(cancel->status == 200, cancel->body);
  BOOST_TEST(value("SELECT status FROM leasehold.all_jobs WHERE id = " + std::to_string(queued_id))
             == "cancelled");
  BOOST_TEST(post("/jobs/" + std::to_string(queued_id) + "/cancel")->status == 409);
}

BOOST_AUTO_TEST_CASE(every_error_has_its_status_and_a_json_body) {
  start();
  auto id = std::to_string(enqueue(db, "noop"));
  struct expectation {
    std::string method, path, body;
    int status;
  };
  std::vector<expectation> cases = {
    {"GET", "/nope", "", 404},
    {"GET", "/jobs/999999", "", 404},
    {"GET", "/jobs/abc", "", 404},
    {"GET", "/jobs", "", 400},
    {"GET", "/dead-jobs?limit=x", "", 400},
    {"GET", "/dead-jobs?limit=0", "", 400},
    {"GET", "/dead-jobs?limit=1000000000000", "", 400},
    {"GET", "/dead-jobs?since_hours=-1", "", 400},
    {"GET", "/dead-jobs?type=" + std::string(300, 'x'), "", 400},
    {"PUT", "/health", "{}", 405},
    {"DELETE", "/jobs/" + id, "{}", 405},
    {"GET", "/jobs/" + id + "/retry", "", 405},
    {"POST", "/health", "{}", 405},
    {"POST", "/jobs", "{not json", 400},
    {"POST", "/jobs", R"({"type":"noop","priority":"high"})", 400},
    {"POST", "/jobs", R"({"type":"noop","run_at":"yesterday-ish"})", 400},
    {"POST", "/jobs", std::string(2 << 20, 'x'), 413}, // over 1 MiB payload + 64 KiB
    {"POST", "/jobs/999999/retry", "", 404},
  };
  for (const auto& c : cases) {
    httplib::Headers h{{"Authorization", std::string{"Bearer "} + token}};
    httplib::Result r = c.method == "GET"    ? http->Get(c.path.c_str(), h)
                        : c.method == "PUT"  ? http->Put(c.path.c_str(), h, c.body, "application/json")
                        : c.method == "DELETE" ? http->Delete(c.path.c_str(), h, c.body, "application/json")
                                             : http->Post(c.path.c_str(), h, c.body, "application/json");
    BOOST_TEST_CONTEXT(c.method << " " << c.path.substr(0, 60)) {
      BOOST_REQUIRE(r);
      BOOST_TEST(r->status == c.status, r->body);
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      BOOST_TEST(j.is_object());
      BOOST_TEST(j.contains("error"));
    }
  }
  // Auth: none, malformed, wrong.
  BOOST_TEST(post("/jobs", R"({"type":"noop"})", "")->status == 401);
  BOOST_TEST(http->Post("/jobs", {{"Authorization", "Basic abc"}}, "{}", "application/json")->status == 401);
  BOOST_TEST(post("/jobs", R"({"type":"noop"})", "wrong")->status == 403);
  BOOST_TEST(post("/jobs/" + id + "/cancel", "", "s3cret-tokeN")->status == 403);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 1);
}

BOOST_AUTO_TEST_CASE(an_internal_failure_is_a_500_that_leaks_nothing) {
  start();
  auto id = std::to_string(enqueue(db, "noop"));
  // Break the schema under the running node: its statements now fail.
  db.execute("ALTER TABLE leasehold.job_runs RENAME TO job_runs_moved");
  auto r = http->Get(("/jobs/" + id).c_str());
  db.execute("ALTER TABLE leasehold.job_runs_moved RENAME TO job_runs");
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 500);
  BOOST_TEST(r->body == R"({"error":"internal error","status":500})");
}

BOOST_AUTO_TEST_CASE(writes_are_disabled_without_a_token) {
  auto cfg = fast_node_config();
  cfg.http_token = "";
  n = std::make_unique<node>(cfg, handlers);
  n->start();
  http = std::make_unique<httplib::Client>("127.0.0.1", n->http_port());
  auto r = post("/jobs", R"({"type":"noop"})", "anything");
  BOOST_TEST(r->status == 403);
  BOOST_TEST(r->body.find("writes are disabled") != std::string::npos);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 0);
}

BOOST_AUTO_TEST_CASE(runs_are_created_shown_and_retried_over_http) {
  start();
  auto body = R"({"type":"fail","label":"import","on_complete":"noop","max_attempts":1,
                  "partitions":[{"key":"a","payload":{"message":"shard a broke"}},
                                {"key":"b"}]})";
  BOOST_TEST(post("/runs", body, "")->status == 401);
  auto created = post("/runs", body);
  BOOST_REQUIRE(created->status == 201);
  auto id = std::to_string(nlohmann::json::parse(created->body)["id"].get<int64_t>());
  BOOST_REQUIRE(wait_until([&] { return get_json("/runs/" + id)["status"] == "failed"; }, 5s));
  auto run = get_json("/runs/" + id);
  BOOST_TEST(run["counts"]["failed"] == 2);
  BOOST_TEST(run["partitions"][0]["last_error"] == "shard a broke");
  BOOST_TEST(run["partitions"][0]["worker"] == n->worker_id());
  auto list = get_json("/runs");
  BOOST_REQUIRE(list.size() == 1u);
  BOOST_TEST(list[0]["label"] == "import");
  BOOST_TEST(list[0]["counts"]["expected"] == 2);
  auto one = post("/runs/" + id + "/retry", R"({"partition":"a"})");
  BOOST_TEST(one->status == 200, one->body);
  BOOST_TEST(nlohmann::json::parse(one->body)["retried"] == nlohmann::json::parse(R"(["a"])"));
  BOOST_REQUIRE(wait_until([&] { return get_json("/runs/" + id)["counts"]["failed"] == 2; }, 5s));
  auto all = post("/runs/" + id + "/retry", "{}");
  BOOST_TEST(nlohmann::json::parse(all->body)["retried"].size() == 2u);
  auto again = post("/runs/" + id + "/retry", R"({"partition":"zzz"})");
  BOOST_TEST(again->status == 409);
  BOOST_TEST(post("/runs/999/retry", "{}")->status == 404);
  BOOST_TEST(post("/runs/" + id + "/retry", R"({"partition":7})")->status == 400);
  BOOST_TEST(post("/runs", R"({"type":"noop","partitions":[{"key":"x"},{"key":"x"}]})")->status == 400);
  BOOST_TEST(post("/runs", R"({"type":"noop","partitions":[]})")->status == 400);
  get_json("/runs/424242", 404);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.runs") == 1); // bad ones wrote nothing
}

BOOST_AUTO_TEST_CASE(sql_metacharacters_and_absurd_values_change_and_leak_nothing) {
  start();
  enqueue(db, "noop");
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 1; }, 5s));
  auto snapshot = value("SELECT string_agg(id || status || updated_at, ',') FROM leasehold.all_jobs");
  std::vector<std::string> hostile = {
    "'; DROP TABLE leasehold.jobs; --", "1 OR 1=1", "\" OR \"\"=\"", "%27%3B%20DELETE%20FROM%20leasehold.jobs%3B--",
    "$1", "\\x00", "1e309", "-9223372036854775808", "99999999999999999999999", "%00", "<script>alert(1)</script>"};
  for (const auto& h : hostile) {
    auto enc = httplib::detail::encode_query_param(h);
    for (auto path : {"/dead-jobs?type=" + enc, "/dead-jobs?correlation_id=" + enc,
                      "/dead-jobs?limit=" + enc, "/dead-jobs?since_hours=" + enc,
                      "/jobs?correlation_id=" + enc, "/jobs/" + enc, "/jobs/" + enc + "/retry"}) {
      auto r = path.find("/retry") != std::string::npos
                 ? http->Post(path.c_str(), {{"Authorization", std::string{"Bearer "} + token}}, "", "application/json")
                 : http->Get(path.c_str());
      BOOST_TEST_CONTEXT(path) {
        BOOST_REQUIRE(r);
        BOOST_TEST(r->status < 500, r->body);
        for (auto leak : {"ERROR", "SELECT", "syntax", "pqxx", "leasehold.jobs", "postgres"})
          BOOST_TEST(r->body.find(leak) == std::string::npos, leak);
      }
    }
  }
  BOOST_TEST(value("SELECT string_agg(id || status || updated_at, ',') FROM leasehold.all_jobs") == snapshot);
}

// /metrics per queue: depth, pause and limit, with queue names that hold a
// quote or a backslash escaped (they once ended the label and broke the
// exposition for every scraper).
BOOST_AUTO_TEST_CASE(metrics_name_each_queue_its_state_and_escape_its_name) {
  new_job odd;
  odd.type = "noop";
  odd.queue = "a\"b\\c";
  db.enqueue(odd);
  db.set_queue_paused("mail", true);
  db.set_queue_concurrency("payments", 3);
  db.set_queue_limits("partner", R"({"per_key": 2, "rate": {"jobs": 600, "period": "1 minute"}})");
  start();
  auto metrics = http->Get("/metrics");
  BOOST_REQUIRE(metrics);
  for (auto line : {"leasehold_queue_depth{queue=\"a\\\"b\\\\c\",status=\"queued\"} 1\n",
                    "leasehold_queue_paused{queue=\"mail\"} 1\n",
                    "leasehold_queue_paused{queue=\"payments\"} 0\n",
                    "leasehold_queue_concurrency_limit{queue=\"payments\"} 3\n",
                    "leasehold_queue_per_key_limit{queue=\"partner\"} 2\n",
                    "leasehold_queue_rate_limit_per_second{queue=\"partner\"} 10.000000\n",
                    "leasehold_queue_rate_started_total{queue=\"partner\"} 0\n"})
    BOOST_TEST(metrics->body.find(line) != std::string::npos, line << " in " << metrics->body);
  BOOST_TEST(metrics->body.find("leasehold_queue_concurrency_limit{queue=\"mail\"}")
             == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
