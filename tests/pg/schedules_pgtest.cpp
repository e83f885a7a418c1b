// Schedules (migration 018): every tick enqueued exactly once however many
// nodes run, across a node killed and restarted and a Postgres outage, each
// catch-up policy, pause and resume, /health naming a late schedule, and the
// CLI and HTTP faces. Real Postgres, real node processes.
#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <thread>

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/health.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

schedule_spec every_second(const std::string& name, const std::string& catch_up) {
  schedule_spec s;
  s.name = name;
  s.cron = "@every 1s";
  s.type = "noop";
  s.payload = R"({"schedule": ")" + name + R"("})";
  s.catch_up = catch_up;
  return s;
}

struct schedule_fixture : pg_fixture {
  // The seconds (since the epoch) of the ticks schedule `name` enqueued.
  std::vector<int64_t> ticks(const std::string& name) {
    // A fresh connection: the fixture's dies with the server in the outage.
    auto text = store{test_dsn()}.query_value("SELECT string_agg(extract(epoch FROM run_at)::bigint::text, ','"
                      " ORDER BY run_at) FROM leasehold.all_jobs"
                      " WHERE payload->>'schedule' = '" + name + "'").value_or("");
    std::vector<int64_t> out;
    for (size_t at = 0; !text.empty() && at != std::string::npos;) {
      auto comma = text.find(',', at);
      out.push_back(std::stoll(text.substr(at, comma == std::string::npos ? comma : comma - at)));
      at = comma == std::string::npos ? comma : comma + 1;
    }
    return out;
  }

  std::unique_ptr<background_process> node_process(const std::string& log,
                                                   std::map<std::string, std::string> env = {}) {
    return std::make_unique<background_process>(
      std::vector<std::string>{leasehold_bin(), "--database-url", test_dsn(), "node",
                               "--http-listen", "off", "--poll-interval", "200ms",
                               "--heartbeat-interval", "200ms", "--lease-ttl", "2s",
                               "--schedule-interval", "300ms"},
      "/tmp/leasehold-schedules-" + std::to_string(::getpid()) + "-" + log + ".log", env);
  }
};

// Consecutive gaps between ticks, in seconds.
std::vector<int64_t> gaps(const std::vector<int64_t>& t) {
  std::vector<int64_t> g;
  for (size_t i = 1; i < t.size(); ++i)
    g.push_back(t[i] - t[i - 1]);
  return g;
}

int64_t count_in(store& db, const std::string& sql) {
  return std::stoll(db.query_value(sql).value_or("-1"));
}

// libfaketime's library; "" (and a message) when it is not installed,
// which fails the test under CI (scripts/install-deps.sh installs it).
std::string faketime_library() {
  for (const char* dir : {"/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime",
                          "/usr/lib/faketime"})
    if (::access((std::string{dir} + "/libfaketimeMT.so.1").c_str(), R_OK) == 0)
      return std::string{dir} + "/libfaketimeMT.so.1";
  BOOST_REQUIRE_MESSAGE(std::getenv("CI") == nullptr,
                        "libfaketime is not installed, but CI must run this test");
  BOOST_TEST_MESSAGE("SKIPPED: libfaketime not installed");
  return "";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(schedules, schedule_fixture)

BOOST_AUTO_TEST_CASE(three_nodes_for_a_minute_enqueue_every_tick_exactly_once) {
  db.add_schedule(every_second("every", "all"));
  std::vector<std::unique_ptr<background_process>> nodes;
  for (int i = 0; i < 3; ++i)
    nodes.push_back(node_process("n" + std::to_string(i)));
  std::this_thread::sleep_for(20s);
  nodes[1]->signal(SIGKILL); // killed mid-pass or not: no tick twice, none lost
  nodes[1]->wait(5000);
  std::this_thread::sleep_for(5s);
  nodes[1] = node_process("n1-again");
  std::this_thread::sleep_for(35s);
  for (auto& n : nodes)
    n->signal(SIGTERM);
  for (auto& n : nodes)
    BOOST_TEST(n->wait(15000) == 0);
  auto t = ticks("every");
  BOOST_TEST_MESSAGE(t.size() << " ticks");
  BOOST_REQUIRE(t.size() >= 55u);
  auto g = gaps(t);
  BOOST_TEST(std::count(g.begin(), g.end(), 1) == static_cast<long>(g.size()),
             "a tick missing (gap > 1s) or enqueued twice (gap 0)");
  BOOST_TEST(count("SELECT ticks_enqueued FROM leasehold.schedules") == static_cast<int64_t>(t.size()));
}

// Nodes whose wall clocks are wrong: one three hours ahead, one three hours
// behind, and one whose clock is stepped an hour forward and then back while
// it runs (libfaketime; the monotonic clock is left alone, as an NTP step
// leaves it). Ticks follow the database's clock: each exactly once, none
// enqueued before its time.
BOOST_AUTO_TEST_CASE(nodes_with_wrong_or_jumping_clocks_enqueue_every_tick_once_on_time) {
  auto faketime_lib = faketime_library();
  if (faketime_lib.empty())
    return;
  auto jump_file = "/tmp/leasehold-clock-" + std::to_string(::getpid());
  std::ofstream{jump_file} << "+0s\n";
  auto skewed = [&](const std::string& offset_or_file, bool from_file) {
    std::map<std::string, std::string> env{{"LD_PRELOAD", faketime_lib},
                                           {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}};
    if (from_file) {
      env["FAKETIME_TIMESTAMP_FILE"] = offset_or_file;
      env["FAKETIME_CACHE_DURATION"] = "1"; // seconds between reads of the file
    } else {
      env["FAKETIME"] = offset_or_file;
    }
    return env;
  };
  db.add_schedule(every_second("skewed", "all"));
  std::vector<std::unique_ptr<background_process>> nodes;
  nodes.push_back(node_process("ahead", skewed("+3h", false)));
  nodes.push_back(node_process("behind", skewed("-3h", false)));
  nodes.push_back(node_process("jumping", skewed(jump_file, true)));
  std::this_thread::sleep_for(8s);
  std::ofstream{jump_file} << "+1h\n"; // stepped forward
  std::this_thread::sleep_for(8s);
  std::ofstream{jump_file} << "-1h\n"; // and back, past where it started
  std::this_thread::sleep_for(8s);
  for (auto& n : nodes)
    n->signal(SIGTERM);
  for (auto& n : nodes)
    BOOST_TEST(n->wait(15000) == 0, n->log());
  ::unlink(jump_file.c_str());
  auto t = ticks("skewed");
  BOOST_TEST_MESSAGE(t.size() << " ticks");
  BOOST_REQUIRE(t.size() >= 20u);
  auto g = gaps(t);
  BOOST_TEST(std::count(g.begin(), g.end(), 1) == static_cast<long>(g.size()),
             "a tick missing (gap > 1s) or enqueued twice (gap 0)");
  // Enqueued by the database's clock, never ahead of it.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE payload->>'schedule' = 'skewed'"
                   " AND created_at < run_at") == 0);
  // The jumping node did run (it logged its start) and ran schedules.
  BOOST_TEST(nodes[2]->log().find("node started") != std::string::npos);
}

// The database's own clock jumps (a private server under libfaketime): an
// hour forward, then back. Forward, the hour of missed ticks follows the
// catch-up policy (one: the latest); back, no tick comes twice and none
// comes until the clock has caught up with the schedule again.
BOOST_AUTO_TEST_CASE(a_database_clock_that_jumps_enqueues_no_tick_twice) {
  auto faketime_lib = faketime_library();
  if (faketime_lib.empty())
    return;
  auto pid = std::to_string(::getpid());
  auto clock_file = "/tmp/leasehold-dbclock-" + pid;
  std::ofstream{clock_file} << "+0s\n";
  auto port = std::to_string(std::stoi(std::getenv("LEASEHOLD_TEST_PG_PORT")) + 17);
  std::map<std::string, std::string> pg_env{
    {"LEASEHOLD_PG_DIR", "/tmp/leasehold-dbclock-pg-" + pid}, {"LEASEHOLD_PG_PORT", port},
    {"LD_PRELOAD", faketime_lib}, {"FAKETIME_TIMESTAMP_FILE", clock_file},
    {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}, {"FAKETIME_CACHE_DURATION", "1"}};
  auto script = std::string{LEASEHOLD_SOURCE_DIR} + "/scripts/pg-local.sh";
  auto started = run({"/bin/bash", script, "start"}, pg_env);
  BOOST_REQUIRE_MESSAGE(started.exit_code == 0, started.err);
  auto url = "postgresql://postgres@127.0.0.1:" + port + "/leasehold";
  BOOST_REQUIRE(run({leasehold_bin(), "--database-url", url, "migrate"}).exit_code == 0);
  store clocked{url};
  clocked.add_schedule(every_second("clocked", "one"));
  auto ticks_now = [&] {
    return count_in(clocked, "SELECT count(*) FROM leasehold.all_jobs"
                             " WHERE payload->>'schedule' = 'clocked'");
  };
  background_process node{{leasehold_bin(), "--database-url", url, "node", "--http-listen", "off",
                           "--poll-interval", "200ms", "--schedule-interval", "300ms"},
                          "/tmp/leasehold-dbclock-" + pid + ".log"};
  std::this_thread::sleep_for(5s);
  auto before_jump = ticks_now();
  std::ofstream{clock_file} << "+1h\n"; // forward
  std::this_thread::sleep_for(5s);
  auto after_forward = ticks_now();
  std::ofstream{clock_file} << "+0s\n"; // and back
  std::this_thread::sleep_for(5s);
  auto after_back = ticks_now();
  node.signal(SIGTERM);
  BOOST_TEST(node.wait(15000) == 0, node.log());
  auto distinct = count_in(clocked, "SELECT count(DISTINCT run_at) FROM leasehold.all_jobs"
                                    " WHERE payload->>'schedule' = 'clocked'");
  auto skipped = count_in(clocked, "SELECT ticks_skipped FROM leasehold.schedules");
  auto biggest_gap = count_in(clocked,
    "SELECT max(gap) FROM (SELECT extract(epoch FROM run_at - lag(run_at) OVER"
    " (ORDER BY run_at))::bigint AS gap FROM leasehold.all_jobs"
    " WHERE payload->>'schedule' = 'clocked') AS g");
  auto listed = clocked.query_value("SELECT string_agg(to_char(run_at, 'HH24:MI:SS') || '/'"
                                    " || to_char(created_at, 'HH24:MI:SS'), ' ' ORDER BY run_at)"
                                    " FROM leasehold.all_jobs WHERE payload->>'schedule' = 'clocked'");
  BOOST_TEST_MESSAGE("ticks (run_at/created_at): " << listed.value_or(""));
  run({"/bin/bash", script, "destroy"}, pg_env);
  ::unlink(clock_file.c_str());
  BOOST_TEST_MESSAGE(before_jump << " ticks, " << after_forward << " after the jump forward, "
                     << after_back << " after the jump back; " << skipped << " skipped");
  BOOST_TEST(before_jump >= 3);
  // Forward: the latest missed tick (catch-up one), then every second.
  BOOST_TEST(after_forward >= before_jump + 3);
  BOOST_TEST(skipped >= 3500);
  BOOST_TEST(biggest_gap >= 3590); // one leap to the latest tick of the missed hour
  // Back: nothing until the clock has caught up with the schedule again.
  BOOST_TEST(after_back <= after_forward + 2); // the second before nodes re-read the clock
  BOOST_TEST(distinct == after_back); // no tick twice
}

BOOST_AUTO_TEST_CASE(after_a_ten_second_outage_each_catch_up_policy_does_what_it_says) {
  for (const char* policy : {"all", "one", "none"})
    db.add_schedule(every_second(policy, policy));
  auto n = node_process("outage");
  std::this_thread::sleep_for(5s);
  pg_local("stop");
  std::this_thread::sleep_for(10s);
  pg_local("start");
  std::this_thread::sleep_for(8s);
  n->signal(SIGTERM);
  BOOST_TEST(n->wait(15000) == 0);
  auto all = gaps(ticks("all"));
  BOOST_TEST(all.size() >= 18u);
  BOOST_TEST(std::count(all.begin(), all.end(), 1) == static_cast<long>(all.size()),
             "catch-up all: every missed tick is enqueued");
  for (const char* policy : {"one", "none"}) {
    auto g = gaps(ticks(policy));
    // One gap of the outage (the missed ticks, but at most the latest one
    // enqueued for them); every other tick one second after the last.
    auto big = std::count_if(g.begin(), g.end(), [](int64_t d) { return d > 1; });
    BOOST_TEST(big == 1, policy);
    BOOST_TEST(*std::max_element(g.begin(), g.end()) >= 8, policy);
    BOOST_TEST(std::count(g.begin(), g.end(), 0) == 0, policy);
  }
}

// More missed ticks than one pass enqueues (1,000): "one" still takes the
// latest, not the 1,000th. Both kinds of schedule: two days of a per-minute
// cron and two hours of @every 1s.
BOOST_AUTO_TEST_CASE(after_a_long_outage_one_is_the_latest_tick_not_the_thousandth) {
  auto minutely = every_second("minutely", "one");
  minutely.cron = "* * * * *";
  db.add_schedule(minutely);
  db.add_schedule(every_second("secondly", "one"));
  db.execute("UPDATE leasehold.schedules SET next_tick_at = CASE name"
             " WHEN 'minutely' THEN date_trunc('minute', now()) - interval '2 days'"
             " ELSE date_trunc('second', now()) - interval '2 hours' END");
  db.enqueue_due_schedules(0ms);
  for (const char* name : {"minutely", "secondly"}) {
    auto t = ticks(name);
    BOOST_REQUIRE(t.size() == 1u);
    auto now_s = std::stoll(value("SELECT extract(epoch FROM now())::bigint"));
    BOOST_TEST(now_s - t[0] <= (std::string{name} == "minutely" ? 61 : 2), name);
  }
  BOOST_TEST(count("SELECT ticks_skipped FROM leasehold.schedules WHERE name = 'minutely'")
             >= 2 * 24 * 60 - 1);
  BOOST_TEST(count("SELECT ticks_skipped FROM leasehold.schedules WHERE name = 'secondly'")
             >= 2 * 3600 - 1);
}

BOOST_AUTO_TEST_CASE(missed_ticks_follow_the_policy_and_late_ones_are_not_on_time) {
  // Straight through the store, ten seconds missed and nothing on time (0ms).
  for (const char* policy : {"all", "one", "none"}) {
    db.add_schedule(every_second(policy, policy));
    db.execute(std::string{"UPDATE leasehold.schedules SET next_tick_at ="}
               + " date_trunc('second', now()) - interval '10 seconds' WHERE name = '"
               + policy + "'");
  }
  auto pass = db.enqueue_due_schedules(0ms);
  BOOST_TEST(ticks("all").size() >= 11u);
  BOOST_TEST(ticks("one").size() == 1u);
  BOOST_TEST(ticks("none").size() == 0u);
  BOOST_TEST(pass.enqueued == static_cast<int64_t>(ticks("all").size()) + 1);
  // The latest missed tick is the one "one" enqueued.
  BOOST_TEST(ticks("one").back() == ticks("all").back());
  // A second pass right away: nothing is due, nothing enqueued twice.
  BOOST_TEST(db.enqueue_due_schedules(0ms).enqueued == 0);
  // The same tick enqueued again (the row's state lost) is a duplicate.
  db.execute("UPDATE leasehold.schedules SET next_tick_at ="
             " date_trunc('second', now()) - interval '3 seconds' WHERE name = 'all'");
  auto before = ticks("all").size();
  db.enqueue_due_schedules(0ms);
  BOOST_TEST(ticks("all").size() <= before + 1); // only a tick that was not due before
}

BOOST_AUTO_TEST_CASE(a_paused_schedule_enqueues_nothing_and_resumes_without_a_backlog) {
  db.add_schedule(every_second("p", "all"));
  BOOST_REQUIRE(db.set_schedule_paused("p", true));
  std::this_thread::sleep_for(2500ms);
  BOOST_TEST(db.enqueue_due_schedules(5s).enqueued == 0);
  BOOST_REQUIRE(db.set_schedule_paused("p", false));
  BOOST_TEST(db.enqueue_due_schedules(5s).enqueued == 0); // the paused ticks are not owed
  std::this_thread::sleep_for(1100ms);
  BOOST_TEST(db.enqueue_due_schedules(5s).enqueued >= 1);
  BOOST_TEST(!db.set_schedule_paused("nope", true));
  BOOST_TEST(db.remove_schedule("p"));
  BOOST_TEST(!db.remove_schedule("p"));
}

BOOST_AUTO_TEST_CASE(health_names_a_schedule_whose_tick_nobody_enqueued) {
  auto s = every_second("nightly-report", "one");
  s.cron = "0 3 * * *";
  s.tz = "Europe/Berlin";
  db.add_schedule(s);
  db.execute("UPDATE leasehold.schedules SET next_tick_at = now() - interval '2 minutes'");
  auto h = nlohmann::json::parse(db.health_json({}));
  add_alerts(h, {});
  bool named = false;
  for (const auto& a : h["alerts"])
    named |= a["code"] == "SCHEDULE_LATE"
             && a["message"].get<std::string>().find("nightly-report") != std::string::npos;
  BOOST_TEST(named, h["alerts"].dump());
  db.set_schedule_paused("nightly-report", true); // paused: not late
  h = nlohmann::json::parse(db.health_json({}));
  add_alerts(h, {});
  for (const auto& a : h["alerts"])
    BOOST_TEST(a["code"] != "SCHEDULE_LATE");
}

BOOST_AUTO_TEST_CASE(the_cli_and_http_add_list_and_refuse_bad_schedules) {
  auto url = test_dsn();
  auto add = run({leasehold_bin(), "--database-url", url, "schedule", "add", "cleanup",
                  "--cron", "*/10 * * * *", "--type", "noop", "--tz", "America/New_York",
                  "--catch-up", "none", "--payload", R"({"deep": true})"});
  BOOST_TEST(add.exit_code == 0, add.err);
  auto list = run({leasehold_bin(), "--database-url", url, "schedule", "list", "--json"});
  auto parsed = nlohmann::json::parse(list.out);
  BOOST_REQUIRE(parsed.size() == 1u);
  BOOST_TEST(parsed[0]["tz"] == "America/New_York");
  BOOST_TEST(parsed[0]["catch_up"] == "none");
  BOOST_TEST(parsed[0]["payload"]["deep"] == true);
  for (const auto& bad : std::vector<std::vector<std::string>>{
         {"cleanup", "--cron", "@hourly", "--type", "noop"},         // name taken
         {"x", "--cron", "61 * * * *", "--type", "noop"},
         {"x", "--cron", "@hourly", "--type", "noop", "--tz", "Nowhere/City"},
         {"x", "--cron", "@hourly", "--type", "noop", "--catch-up", "some"},
         {"x", "--cron", "@hourly", "--type", "noop", "--payload", "{"},
         {"x", "--cron", "@every 10ms", "--type", "noop"}}) {
    std::vector<std::string> argv{leasehold_bin(), "--database-url", url, "schedule", "add"};
    argv.insert(argv.end(), bad.begin(), bad.end());
    auto r = run(argv);
    BOOST_TEST(r.exit_code != 0, bad[0] << " " << bad[2]);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.schedules") == 1);

  auto cfg = fast_node_config();
  cfg.http_token = "tok";
  cfg.schedule_interval = 0ms;
  node n{cfg, builtin_handlers()};
  n.start();
  httplib::Client http{"127.0.0.1", static_cast<int>(n.http_port())};
  httplib::Headers auth{{"Authorization", "Bearer tok"}};
  auto created = http.Post("/schedules", auth,
                           R"({"name":"digest","cron":"@daily","type":"noop"})",
                           "application/json");
  BOOST_REQUIRE(created);
  BOOST_TEST(created->status == 201, created->body);
  BOOST_TEST(http.Post("/schedules", auth, R"({"name":"d2","cron":"@often","type":"noop"})",
                       "application/json")->status == 400);
  BOOST_TEST(http.Post("/schedules", R"({"name":"d3","cron":"@daily","type":"noop"})",
                       "application/json")->status == 401);
  BOOST_TEST(http.Post("/schedules/digest/pause", auth, "", "application/json")->status == 200);
  BOOST_TEST(http.Post("/schedules/ghost/pause", auth, "", "application/json")->status == 404);
  auto got = http.Get("/schedules");
  BOOST_REQUIRE(got);
  auto all = nlohmann::json::parse(got->body);
  BOOST_TEST(all.size() == 2u);
  BOOST_TEST(all[1]["name"] == "digest");
  BOOST_TEST(all[1]["paused"] == true);
  BOOST_TEST(http.Post("/schedules/digest/remove", auth, "", "application/json")->status == 200);
  n.stop();
  BOOST_TEST(count("SELECT count(*) FROM leasehold.schedules") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
