// Job output and progress (migration 020): an attempt keeps what its handler
// returned; a running attempt's progress is visible live, written at most
// once per heartbeat and fenced like its outcome. C++ handlers and external
// programs (stdout as output, progress lines on LEASEHOLD_PROGRESS_FD).
// Real Postgres, real nodes.
#include <atomic>
#include <fstream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cluster_node.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_http.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

std::string write_script(const std::string& name, const std::string& body) {
  auto path = "/tmp/leasehold-" + name + "-" + std::to_string(::getpid()) + ".sh";
  std::ofstream{path} << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0755);
  return path;
}

nlohmann::json get_job(int port, int64_t id) {
  auto r = raw_request(port, "GET /jobs/" + std::to_string(id)
                               + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  if (r.status != 200)
    return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

nlohmann::json job_json(store& db, int64_t id) {
  auto text = db.job_json(id);
  return text ? nlohmann::json::parse(*text) : nlohmann::json();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(output_progress, pg_fixture)

// A program reports progress while it waits for the test's go-ahead: the
// node's GET /jobs/ID shows it live; then its stdout is the output, and the
// run row keeps the last report, written just before the program exited.
BOOST_AUTO_TEST_CASE(a_programs_progress_is_seen_live_and_its_stdout_is_the_output) {
  auto go = "/tmp/leasehold-go-" + std::to_string(::getpid());
  ::unlink(go.c_str());
  auto script = write_script("progress", "echo '50 halfway there' >&$LEASEHOLD_PROGRESS_FD\n"
                                         "while [ ! -e " + go + " ]; do sleep 0.05; done\n"
                                         "echo '100 done' >&$LEASEHOLD_PROGRESS_FD\n"
                                         "echo '{\"files\": 4}'\n");
  auto text_script = write_script("text-output", "printf 'copied 4 files\\n'\n");
  auto node = start_node({"--exec", "copy=" + script, "--exec", "plain=" + text_script});
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return !http_address(*node).empty(); }, 20s),
                        node->log());
  auto address = http_address(*node);
  int port = std::stoi(address.substr(address.rfind(':') + 1));
  auto id = enqueue(db, "copy");
  nlohmann::json seen;
  BOOST_TEST(wait_until([&] {
    seen = get_job(port, id);
    return seen.is_object() && seen["status"] == "running" && seen["progress"].is_object();
  }, 10s), node->log());
  BOOST_TEST(seen["progress"]["value"] == 50);
  BOOST_TEST(seen["progress"]["message"] == "halfway there");
  BOOST_TEST(seen["progress"]["attempt"] == 1);
  BOOST_TEST(seen["runs"].back()["progress"]["value"] == 50);
  std::ofstream{go} << "go";
  BOOST_TEST(wait_until([&] { return job_json(db, id)["status"] == "succeeded"; }, 10s));
  auto done = job_json(db, id);
  BOOST_TEST(done["output"] == nlohmann::json({{"files", 4}}));
  BOOST_TEST(done["runs"][0]["output"] == nlohmann::json({{"files", 4}}));
  BOOST_TEST(done["runs"][0]["progress"]["value"] == 100);
  BOOST_TEST(done["runs"][0]["progress"]["message"] == "done");
  // Text that is not JSON is kept as a string; `leasehold job` shows both.
  auto plain = enqueue(db, "plain");
  BOOST_TEST(wait_until([&] { return job_json(db, plain)["status"] == "succeeded"; }, 10s));
  auto cli = run({leasehold_bin(), "--database-url", test_dsn(), "job", std::to_string(plain)});
  BOOST_TEST(cli.exit_code == 0);
  BOOST_TEST(nlohmann::json::parse(cli.out)["output"] == "copied 4 files");
  ::unlink(go.c_str());
}

// A failed attempt keeps its output and how far it got.
BOOST_AUTO_TEST_CASE(a_failed_attempt_keeps_its_output_and_progress) {
  auto script = write_script("partial", "echo '40 four of ten' >&$LEASEHOLD_PROGRESS_FD\n"
                                        "echo '{\"done\": 4}'\n"
                                        "echo 'disk full' >&2\nexit 1\n");
  auto handlers = builtin_handlers();
  handlers->add("partial", make_exec_handler(script, 10s));
  auto id = enqueue(db, "partial", "{}", 1);
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_TEST(wait_until([&] { return job_json(db, id)["status"] == "failed"; }, 10s));
  n.stop();
  auto run = job_json(db, id)["runs"][0];
  BOOST_TEST(run["outcome"] == "failed");
  BOOST_TEST(run["error"] == "exit status 1: disk full");
  BOOST_TEST(run["output"] == nlohmann::json({{"done", 4}}));
  BOOST_TEST(run["progress"]["value"] == 40);
}

// A handler reporting thousands of times is written once per heartbeat at
// most: a trigger counts every change of the job's progress.
BOOST_AUTO_TEST_CASE(progress_is_written_at_most_once_per_heartbeat) {
  db.execute("CREATE TABLE IF NOT EXISTS public.progress_writes (at timestamptz);"
             "TRUNCATE public.progress_writes;"
             "CREATE OR REPLACE FUNCTION public.count_progress() RETURNS trigger"
             " LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.progress_writes"
             " VALUES (now()); RETURN NEW; END $$;"
             "CREATE OR REPLACE TRIGGER count_progress AFTER UPDATE OF progress"
             " ON leasehold.jobs FOR EACH ROW EXECUTE FUNCTION public.count_progress()");
  auto handlers = builtin_handlers();
  std::atomic<int> reports{0};
  handlers->add("busy", [&](job_context& ctx) {
    auto until = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < until) {
      ctx.progress(++reports, "item " + std::to_string(reports.load()));
      std::this_thread::sleep_for(200us);
    }
    return handler_result::success();
  });
  auto cfg = fast_node_config();
  cfg.heartbeat_interval = 250ms;
  auto id = enqueue(db, "busy");
  bool succeeded = run_until_succeeded(cfg, handlers, 1, 15s);
  auto writes = count("SELECT count(*) FROM public.progress_writes");
  db.execute("DROP TRIGGER count_progress ON leasehold.jobs;"
             "DROP TABLE public.progress_writes; DROP FUNCTION public.count_progress()");
  BOOST_REQUIRE(succeeded);
  BOOST_TEST_MESSAGE(reports.load() << " reports, " << writes << " writes");
  BOOST_TEST(reports.load() > 1000);
  // 2 s of work at one heartbeat per 250 ms: 8 ticks, a few more for slack.
  BOOST_TEST(writes >= 3);
  BOOST_TEST(writes <= 12);
  // The run keeps the last report, whether or not a heartbeat wrote it.
  BOOST_TEST(job_json(db, id)["runs"][0]["progress"]["value"] == reports.load());
}

// A report from an attempt that no longer holds its job is refused, like
// its outcome: another worker's lease, a later attempt, a revoked worker.
BOOST_AUTO_TEST_CASE(a_stale_owners_progress_is_refused) {
  register_worker(db, "w-old");
  register_worker(db, "w-new");
  auto id = enqueue(db, "noop");
  auto claimed = db.claim("w-old", "default", 1, {"noop"});
  BOOST_REQUIRE(claimed.size() == 1u);
  lease_ref lease{id, claimed[0].attempt};
  auto reply = db.renew("w-old", {lease}, {}, {{lease, 10, "mine"}});
  BOOST_TEST(reply.progress_refused.empty());
  BOOST_TEST(job_json(db, id)["progress"]["message"] == "mine");
  // The lease moves to another worker, which reports its own progress.
  db.execute("UPDATE leasehold.jobs SET locked_by = 'w-new' WHERE id = " + std::to_string(id));
  BOOST_TEST(db.renew("w-new", {lease}, {}, {{lease, 20, "theirs"}}).progress_refused.empty());
  reply = db.renew("w-old", {lease}, {}, {{lease, 99, "stale"}});
  BOOST_REQUIRE(reply.progress_refused.size() == 1u);
  BOOST_TEST(reply.progress_refused[0].job_id == id);
  BOOST_TEST(job_json(db, id)["progress"]["message"] == "theirs");
  // A report of an earlier attempt of the same worker.
  db.execute("UPDATE leasehold.jobs SET attempts = attempts + 1 WHERE id = " + std::to_string(id));
  BOOST_TEST(db.renew("w-new", {}, {}, {{lease, 30, "old attempt"}}).progress_refused.size()
             == 1u);
  // The job row shows no progress for the new attempt, which reported none.
  BOOST_TEST(job_json(db, id)["progress"].is_null());
  // A revoked worker (STOPPED) writes nothing.
  lease_ref current{id, lease.attempt + 1};
  db.execute("UPDATE leasehold.worker_instances SET status = 'STOPPED'"
             " WHERE worker_id = 'w-new'");
  BOOST_TEST(db.renew("w-new", {}, {}, {{current, 40, "revoked"}}).progress_refused.size()
             == 1u);
  BOOST_TEST(job_json(db, id)["progress"].is_null());
}

// Outputs Postgres could not store as they are (NUL, invalid UTF-8, nested
// too deep, too big) amid a batch of ordinary ones: every attempt of the
// batch is written, each output bounded.
BOOST_AUTO_TEST_CASE(hostile_outputs_in_a_batch_are_bounded_and_written) {
  auto handlers = builtin_handlers();
  handlers->add("hostile", [](job_context& ctx) {
    auto kind = ctx.payload().at("kind").get<std::string>();
    if (kind == "nul")
      return handler_result::success({{"text", std::string{"a\0b", 3}}});
    if (kind == "utf8")
      return handler_result::success({{"text", std::string{"\xff\xfe ok"}}});
    if (kind == "deep") {
      nlohmann::json deep = 1;
      for (int i = 0; i < 5000; ++i)
        deep = nlohmann::json::array({deep});
      return handler_result::success(deep);
    }
    if (kind == "big")
      return handler_result::success(std::string(1 << 20, 'x'));
    return handler_result::success({{"n", ctx.job_id()}});
  }, handler_mode::non_blocking);
  std::vector<std::string> kinds;
  for (int i = 0; i < 40; ++i)
    kinds.push_back(i % 10 == 3 ? "nul" : i % 10 == 5 ? "utf8" : i % 10 == 7 ? "deep"
                  : i % 10 == 9 ? "big" : "plain");
  std::map<std::string, int64_t> one_of;
  for (const auto& k : kinds)
    one_of[k] = enqueue(db, "hostile", nlohmann::json{{"kind", k}}.dump());
  for (size_t i = 0; i + 5 < kinds.size(); ++i) // more of each, interleaved
    enqueue(db, "hostile", nlohmann::json{{"kind", kinds[i]}}.dump());
  BOOST_REQUIRE(run_until_succeeded(fast_node_config(), handlers, 75, 20s));
  BOOST_TEST(job_json(db, one_of["nul"])["output"]["text"] == "a\xef\xbf\xbd" "b");
  BOOST_TEST(job_json(db, one_of["utf8"])["output"]["text"]
             == "\xef\xbf\xbd\xef\xbf\xbd ok");
  BOOST_TEST(job_json(db, one_of["deep"])["output"]["output_refused"].is_string());
  auto big = job_json(db, one_of["big"])["output"];
  BOOST_TEST(big["truncated"] == true);
  BOOST_TEST(big["bytes"] == (1 << 20) + 2); // the JSON string's quotes
  BOOST_TEST(big["head"].get<std::string>().size() <= 1024u);
  BOOST_TEST(job_json(db, one_of["plain"])["output"]["n"] == one_of["plain"]);
}

// An attempt that ends without an outcome of its own keeps how far it got:
// cancelled by an operator, or expired after its node died.
BOOST_AUTO_TEST_CASE(cancelled_and_expired_attempts_keep_their_progress) {
  register_worker(db, "w-gone");
  auto cancelled = enqueue(db, "noop");
  auto expired = enqueue(db, "noop");
  auto claimed = db.claim("w-gone", "default", 2, {"noop"});
  BOOST_REQUIRE(claimed.size() == 2u);
  db.renew("w-gone", {}, {}, {{{cancelled, 1}, 30, "cancel me"}, {{expired, 1}, 70, "dying"}});
  BOOST_REQUIRE(db.cancel_job(cancelled).has_value());
  BOOST_TEST(job_json(db, cancelled)["runs"][0]["progress"]["message"] == "cancel me");
  // The worker is presumed dead (STOPPED by others): a reaper rescues its
  // job at once. (Silence alone would have to outlast the server's uptime,
  // which a restart test run just before may have cut short.)
  db.execute("UPDATE leasehold.worker_instances SET status = 'STOPPED'"
             " WHERE worker_id = 'w-gone'");
  rescue_request r;
  r.lease_ttl_ms = 1000;
  r.retry_base_ms = 10;
  r.retry_cap_ms = 100;
  r.stale_after_ms = 1000;
  r.stop_timeout_ms = 1000;
  r.observed_ms = 3600 * 1000;
  db.rescue_expired(r);
  auto run = job_json(db, expired)["runs"][0];
  BOOST_TEST(run["outcome"] == "expired");
  BOOST_TEST(run["progress"]["value"] == 70);
}

BOOST_AUTO_TEST_SUITE_END()
