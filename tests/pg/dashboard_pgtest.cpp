// The dashboard in a real browser (headless Chromium): the page must show
// the live numbers, not just load.
#include <unistd.h>

#include <cstdlib>

#include <atomic>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* chromium = "/usr/bin/chromium";

std::vector<std::string> chromium_args(const std::string& user_dir) {
  return {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
          "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--user-data-dir=" + user_dir,
          "--virtual-time-budget=5000", "--window-size=1280,1100"};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(dashboard, pg_fixture)

BOOST_AUTO_TEST_CASE(the_dashboard_shows_live_numbers_in_a_browser) {
  if (access(chromium, X_OK) != 0) {
    // CI installs it (scripts/install-deps.sh); elsewhere say why we skip.
    BOOST_REQUIRE_MESSAGE(std::getenv("CI") == nullptr,
                          "chromium is not installed, but CI must run this test");
    BOOST_TEST_MESSAGE("SKIPPED: " << chromium << " not installed");
    return;
  }
  // Seven jobs waiting on a queue no node serves, a run of three partitions
  // with no handler registered, and one dead job.
  for (int i = 0; i < 7; ++i) {
    new_job j;
    j.type = "report";
    j.queue = "nobody";
    db.enqueue(j);
  }
  new_job dead;
  dead.type = "fail";
  dead.payload = R"({"message":"no such printer"})";
  dead.max_attempts = 1;
  dead.queue = "work"; // the only queue the node serves
  db.enqueue(dead);
  run_spec nightly;
  nightly.type = "report";
  nightly.label = "nightly-import";
  nightly.partitions = {{"k1", "{}"}, {"k2", "{}"}, {"k3", "{}"}};
  db.create_run(nightly);
  auto handlers = builtin_handlers();
  auto cfg = fast_node_config();
  cfg.queues = {{"work", 2}};
  db.set_queue_paused("nobody", true);
  db.set_queue_concurrency("work", 2);
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return count("SELECT count(*) FROM leasehold.all_jobs"
                                              " WHERE status = 'failed'") == 1; }, 5s));
  auto url = "http://127.0.0.1:" + std::to_string(n.http_port()) + "/";
  auto user_dir = "/tmp/leasehold-chromium-" + std::to_string(getpid());

  auto args = chromium_args(user_dir);
  args.push_back("--dump-dom");
  args.push_back(url);
  auto dom = run(args);
  BOOST_REQUIRE_MESSAGE(dom.exit_code == 0, dom.err);
  BOOST_TEST(dom.out.find(R"(id="queued-total">10<)") != std::string::npos, dom.out);
  BOOST_TEST(dom.out.find("<td>nightly-import</td><td>running</td><td>3</td><td>3</td>")
             != std::string::npos); // runs panel: expected 3, queued 3
  BOOST_TEST(dom.out.find(R"(id="dead-24h">1<)") != std::string::npos);
  BOOST_TEST(dom.out.find(n.worker_id()) != std::string::npos);         // workers table
  BOOST_TEST(dom.out.find("no such printer") != std::string::npos); // dead jobs table
  BOOST_TEST(dom.out.find("DEAD_JOBS") == std::string::npos);            // 1 is under 5
  BOOST_TEST(dom.out.find(R"(id="updated">never<)") == std::string::npos);
  // Queues panel: the paused queue with its 7 due jobs, the limited one.
  BOOST_TEST(dom.out.find("<tr><td>nobody</td><td>PAUSED since ") != std::string::npos);
  BOOST_TEST(dom.out.find("</td><td>7</td><td>0</td><td>0</td><td>-</td>") != std::string::npos);
  BOOST_TEST(dom.out.find("<tr><td>work</td><td>running</td>") != std::string::npos);
  BOOST_TEST(dom.out.find("QUEUE_PAUSED") != std::string::npos); // alert
  // Cluster panel: this node, live over its own cluster face.
  BOOST_TEST(dom.out.find("<tr><td>" + n.worker_id() + "</td><td>reachable</td>")
             != std::string::npos);
  BOOST_TEST(dom.out.find("1 reachable, 0 unreachable; gathered by " + n.worker_id())
             != std::string::npos);

  // A screenshot for people (LEASEHOLD_SCREENSHOT picks where, e.g. docs/).
  const char* shot_env = std::getenv("LEASEHOLD_SCREENSHOT");
  std::string shot = shot_env ? shot_env : user_dir + ".png";
  auto shot_args = chromium_args(user_dir);
  shot_args.push_back("--screenshot=" + shot);
  shot_args.push_back(url);
  auto s = run(shot_args);
  BOOST_TEST(s.exit_code == 0, s.err);
  BOOST_TEST(access(shot.c_str(), R_OK) == 0);
  n.stop();
  run({"/bin/rm", "-rf", user_dir});
}

// A running job's progress in the Running table, and one job's output and
// attempts in the job panel (#job=ID), as a browser renders them.
BOOST_AUTO_TEST_CASE(the_dashboard_shows_progress_and_a_jobs_output) {
  if (access(chromium, X_OK) != 0) {
    BOOST_REQUIRE_MESSAGE(std::getenv("CI") == nullptr,
                          "chromium is not installed, but CI must run this test");
    BOOST_TEST_MESSAGE("SKIPPED: " << chromium << " not installed");
    return;
  }
  auto handlers = builtin_handlers();
  std::atomic<bool> release{false};
  handlers->add("crawl", [&](job_context& ctx) {
    ctx.progress(42, "crawling page 42 <of> 100");
    while (!release && !ctx.cancelled())
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    return handler_result::success();
  });
  auto crawl = enqueue(db, "crawl");
  auto echo = enqueue(db, "echo", R"({"rows": 17, "note": "<b>not bold</b>"})");
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_REQUIRE(wait_until([&] {
    return value("SELECT progress ->> 'value' FROM leasehold.jobs WHERE id = "
                 + std::to_string(crawl)) == "42"
           && count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = "
                    + std::to_string(echo)) == 1;
  }, 10s));
  auto user_dir = "/tmp/leasehold-chromium-" + std::to_string(getpid());
  auto args = chromium_args(user_dir);
  args.push_back("--dump-dom");
  args.push_back("http://127.0.0.1:" + std::to_string(n.http_port()) + "/#job="
                 + std::to_string(echo));
  auto dom = run(args);
  release = true;
  n.stop();
  run({"/bin/rm", "-rf", user_dir});
  BOOST_REQUIRE_MESSAGE(dom.exit_code == 0, dom.err);
  // Running table: the crawl job with its progress bar and message, escaped.
  BOOST_TEST(dom.out.find(R"(<progress max="100" value="42"></progress> 42</td>)"
                          "<td>crawling page 42 &lt;of&gt; 100</td>")
             != std::string::npos, dom.out);
  // Job panel: the echo job's output, escaped, and its attempt.
  BOOST_TEST(dom.out.find(R"(<div id="job-status"><b>#)" + std::to_string(echo)
                          + " echo</b> succeeded") != std::string::npos,
             dom.out.substr(dom.out.find(R"(id="updated")"), 80));
  BOOST_TEST(dom.out.find("&lt;b&gt;not bold&lt;/b&gt;") != std::string::npos);
  BOOST_TEST(dom.out.find("\"rows\": 17") != std::string::npos);
}

// The queue buttons, clicked in headless Chromium through puppeteer-core
// (scripts/install-console-tools.sh): without the write token nothing
// changes and the page says the token was refused; with it, pause and
// resume take effect in the database, and the row shows it.
BOOST_AUTO_TEST_CASE(the_queue_buttons_pause_and_resume_with_the_token_only) {
  std::string tools = LEASEHOLD_SOURCE_DIR "/.leasehold/console-tools/node_modules/puppeteer-core";
  if (access(chromium, X_OK) != 0 || access(tools.c_str(), R_OK) != 0) {
    BOOST_REQUIRE_MESSAGE(std::getenv("CI") == nullptr,
                          "chromium or puppeteer-core (scripts/install-console-tools.sh) is"
                          " missing, but CI must run this test");
    BOOST_TEST_MESSAGE("SKIPPED: chromium or " << tools << " missing");
    return;
  }
  new_job j;
  j.type = "report";
  j.queue = "mail";
  db.enqueue(j);
  auto handlers = builtin_handlers();
  auto cfg = fast_node_config();
  cfg.http_token = "console-test-token";
  node n{cfg, handlers};
  n.start();
  auto url = "http://127.0.0.1:" + std::to_string(n.http_port()) + "/";
  auto click = [&](const std::string& step) {
    // The script runs from the installed tools' folder, where its import resolves.
    auto script = std::string{LEASEHOLD_SOURCE_DIR} + "/.leasehold/console-tools/queue_buttons.mjs";
    run({"/bin/cp", LEASEHOLD_SOURCE_DIR "/tests/console/queue_buttons.mjs", script});
    auto r = run({"/usr/bin/node", script, url, "mail", "console-test-token", step});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, step << ": " << r.err);
    return nlohmann::json::parse(r.out);
  };
  auto paused = [&] {
    return value("SELECT coalesce((SELECT paused::text FROM leasehold.queues"
                 " WHERE name = 'mail'), 'none')");
  };
  auto refused = click("refused");
  BOOST_TEST(refused["action"].get<std::string>().find("token was refused")
             != std::string::npos, refused.dump());
  BOOST_TEST(paused() == "none"); // nothing written
  auto pause = click("pause");
  BOOST_TEST(pause["action"] == "queue mail: paused", pause.dump());
  BOOST_TEST(paused() == "true");
  BOOST_TEST(pause["row"].get<std::string>().find("PAUSED since") != std::string::npos);
  auto resume = click("resume");
  BOOST_TEST(resume["action"] == "queue mail: resumed", resume.dump());
  BOOST_TEST(paused() == "false");
  n.stop();
}

BOOST_AUTO_TEST_SUITE_END()
