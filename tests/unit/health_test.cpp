#include "runtime/health.hpp"

#include <boost/test/unit_test.hpp>

using namespace leasehold;

namespace {

nlohmann::json healthy() {
  return nlohmann::json::parse(R"({
    "stuck_count": 0, "estimated_lag_seconds": 0.5, "dead_last_24h": 5,
    "policy_violations_last_24h": 0,
    "workers": {"hung_stopping": 0, "hung_stopping_ids": [], "version_drift": [],
                "singleton_conflicts": []}})");
}

std::vector<std::string> codes(const nlohmann::json& h) {
  std::vector<std::string> out;
  for (const auto& a : h["alerts"])
    out.push_back(a["code"]);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(alerts)

BOOST_AUTO_TEST_CASE(a_healthy_system_has_no_alerts) {
  auto h = healthy();
  add_alerts(h, {});
  BOOST_TEST(h["alerts"].empty());
  BOOST_TEST(h["status"] == "ok");
}

BOOST_AUTO_TEST_CASE(thresholds_are_respected_and_criticals_come_first) {
  auto h = healthy();
  h["dead_last_24h"] = 6;             // over the default 5: warning
  h["estimated_lag_seconds"] = 301.0; // over the default 300s: critical
  add_alerts(h, {});
  BOOST_TEST(codes(h) == (std::vector<std::string>{"QUEUE_LAG", "DEAD_JOBS"}));
  BOOST_TEST(h["status"] == "critical");
  auto relaxed = healthy();
  relaxed["dead_last_24h"] = 6;
  relaxed["estimated_lag_seconds"] = 301.0;
  alert_thresholds t;
  t.lag_critical_seconds = 600;
  t.dead_warning = 10;
  add_alerts(relaxed, t);
  BOOST_TEST(relaxed["alerts"].empty());
}

BOOST_AUTO_TEST_CASE(warnings_alone_make_a_warning_status) {
  auto h = healthy();
  h["policy_violations_last_24h"] = 1;
  h["workers"]["version_drift"] = nlohmann::json::parse(
    R"([{"worker_type":"mailer","versions":["a","b"]}])");
  add_alerts(h, {});
  BOOST_TEST(codes(h) == (std::vector<std::string>{"VERSION_DRIFT", "POLICY_VIOLATIONS"}));
  BOOST_TEST(h["status"] == "warning");
  BOOST_TEST(h["alerts"][0]["message"].get<std::string>().find("mailer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unserved_type_is_a_warning_after_the_criticals) {
  auto h = healthy();
  h["estimated_lag_seconds"] = 301.0;
  h["unserved_types"] = nlohmann::json::parse(
    R"([{"type":"resize","queued":3,"oldest_wait_seconds":301.4}])");
  add_alerts(h, {});
  BOOST_TEST(codes(h) == (std::vector<std::string>{"QUEUE_LAG", "UNSERVED_TYPE"}));
  BOOST_TEST(h["alerts"][1]["severity"] == "warning");
  BOOST_TEST(h["alerts"][1]["message"]
             == "3 queued job(s) of type 'resize' that no live node serves, the oldest"
                " waiting 301s: they wait for a node with its handler (see /workers)");
}

BOOST_AUTO_TEST_CASE(a_paused_queue_is_named_with_what_it_holds_back) {
  auto h = healthy();
  h["paused_queues"] = nlohmann::json::parse(
    R"([{"queue": "mail", "paused_at": "x", "paused_seconds": 125.4, "due": 42}])");
  add_alerts(h, {});
  BOOST_TEST(codes(h) == (std::vector<std::string>{"QUEUE_PAUSED"}));
  auto message = h["alerts"][0]["message"].get<std::string>();
  BOOST_TEST(message.find("'mail' is paused (for 125s) with 42 due jobs") != std::string::npos,
             message);
  BOOST_TEST(message.find("leasehold queue resume mail") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_queue_held_at_its_limit_with_a_backlog_is_named) {
  auto h = healthy();
  h["limited_queues"] = nlohmann::json::parse(R"([
    {"queue": "payments", "concurrency": 3, "running": 3, "at_limit_seconds": 125.0,
     "rate": null, "rate_period_seconds": null, "burst": null, "started_per_second": null,
     "due": 400},
    {"queue": "partner", "concurrency": null, "running": 2, "at_limit_seconds": null,
     "rate": 600, "rate_period_seconds": 60.0, "burst": 1, "started_per_second": 9.8,
     "due": 50},
    {"queue": "quiet", "concurrency": 3, "running": 3, "at_limit_seconds": 30.0,
     "rate": 10, "rate_period_seconds": 1.0, "burst": 1, "started_per_second": 2.0,
     "due": 5}])");
  add_alerts(h, {});
  // quiet: at its limit for less than a minute, and well under its rate.
  BOOST_TEST(codes(h) == (std::vector<std::string>{"QUEUE_AT_LIMIT", "QUEUE_RATE_LIMITED"}));
  auto at_limit = h["alerts"][0]["message"].get<std::string>();
  BOOST_TEST(at_limit.find("'payments' has held its concurrency limit (3) for 125s with 400 due")
               != std::string::npos, at_limit);
  auto rated = h["alerts"][1]["message"].get<std::string>();
  BOOST_TEST(rated.find("'partner' starts 9.8 jobs/s") != std::string::npos, rated);
  // Without a backlog, neither is worth a look.
  for (auto& q : h["limited_queues"])
    q["due"] = 0;
  h.erase("alerts");
  add_alerts(h, {});
  BOOST_TEST(codes(h).empty());
}

BOOST_AUTO_TEST_SUITE_END()
