// The leasehold command line, run as a real process: bad input gets one
// clear line and a non-zero exit; bulk enqueue is all or nothing.
#include <fstream>
#include <memory>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;

namespace {

run_result run_cli(std::vector<std::string> args,
               std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), leasehold_bin());
  if (env.count("DATABASE_URL") == 0)
    env["DATABASE_URL"] = test_dsn();
  return run(args, env);
}

size_t lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

std::string write_file(const std::string& name, const std::string& text) {
  auto path = "/tmp/leasehold-cli-" + std::to_string(getpid()) + "-" + name;
  std::ofstream{path} << text;
  return path;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cli, pg_fixture)

BOOST_AUTO_TEST_CASE(enqueue_prints_the_id_and_job_prints_it_back) {
  auto r = run_cli({"enqueue", "sleep", "--payload", R"({"ms":5})", "--queue", "q1",
                "--priority", "3", "--max-attempts", "7", "--correlation-id", "c-9"});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  auto id = std::stoll(r.out);
  auto job = run_cli({"job", std::to_string(id)});
  BOOST_REQUIRE_EQUAL(job.exit_code, 0);
  auto j = nlohmann::json::parse(job.out);
  BOOST_TEST(j["type"] == "sleep");
  BOOST_TEST(j["queue"] == "q1");
  BOOST_TEST(j["priority"] == 3);
  BOOST_TEST(j["max_attempts"] == 7);
  BOOST_TEST(j["correlation_id"] == "c-9");
  BOOST_TEST(j["payload"]["ms"] == 5);
  BOOST_TEST(j["status"] == "queued");
  BOOST_TEST(j["runs"].size() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_input_gets_one_line_and_a_non_zero_exit) {
  struct bad_case {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<bad_case> cases = {
    {{"enqueue", "noop", "--payload", "{not json"}, "--payload is not valid JSON"},
    {{"enqueue", "noop", "--max-attempts", "0"}, "--max-attempts must be at least 1"},
    {{"enqueue", "noop", "--run-at", "next tuesday-ish"}, "timestamp"},
    {{"enqueue", "noop", "--frobnicate"}, "frobnicate"},
    {{"enqueue"}, "TYPE is required"},
    {{"job", "999999"}, "no job with id 999999"},
    {{"job", "abc"}, "abc"},
    {{"nosuchcommand"}, "nosuchcommand"},
    {{"job", "1", "--database-url", "postgresql://x:pw@127.0.0.1:1/x"}, "port 1 failed"},
    {{"node", "--heartbeat-interval", "10 parsecs"}, "--heartbeat-interval"},
    {{"node", "--lease-ttl", "1s", "--heartbeat-interval", "2s"}, "--lease-ttl"},
    {{"node", "--exec", "resize=/no/such/program"}, "not an executable"},
    {{"node", "--trace-policy", "lenient"}, "--trace-policy"},
  };
  for (const auto& c : cases) {
    auto r = run_cli(c.args);
    BOOST_TEST_CONTEXT(c.args[0] << " ... -> " << r.err) {
      BOOST_TEST(r.exit_code != 0);
      BOOST_TEST(lines(r.err) == 1u);
      BOOST_TEST(r.err.find(c.says) != std::string::npos);
    }
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 0);
}

BOOST_AUTO_TEST_CASE(an_unreachable_database_is_one_line_without_the_password) {
  auto r = run_cli({"enqueue", "noop"},
               {{"DATABASE_URL", "postgresql://app:hunter2@127.0.0.1:1/x"}});
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(lines(r.err) == 1u);
  BOOST_TEST(r.err.find("hunter2") == std::string::npos);
  auto none = run_cli({"enqueue", "noop"}, {{"DATABASE_URL", ""}});
  BOOST_TEST(none.exit_code != 0);
  BOOST_TEST(none.err.find("DATABASE_URL") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bulk_enqueue_is_all_or_nothing_and_names_the_bad_line) {
  std::string text;
  for (int i = 0; i < 12000; ++i)
    text += R"({"type":"noop","payload":{"i":)" + std::to_string(i) + "}}\n";
  auto good = write_file("good.ndjson", text);
  auto r = run_cli({"enqueue", "--file", good});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  BOOST_TEST(r.out.find("enqueued 12000 jobs") == 0u);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 12000);

  auto bad = write_file("bad.ndjson", "{\"type\":\"noop\"}\n{\"type\":\"noop\"}\n"
                                      "{\"type\":\"noop\",\"payload\":{\"x\":}\n");
  auto rb = run_cli({"enqueue", "--file", bad});
  BOOST_TEST(rb.exit_code != 0);
  BOOST_TEST(lines(rb.err) == 1u);
  BOOST_TEST(rb.err.find("bad.ndjson:3: not valid JSON") != std::string::npos);
  // A line only Postgres rejects (bad timestamp) rolls back the whole file.
  auto late = write_file("late.ndjson", text + "{\"type\":\"noop\",\"run_at\":\"never\"}\n");
  auto rl = run_cli({"enqueue", "--file", late});
  BOOST_TEST(rl.exit_code != 0);
  BOOST_TEST(lines(rl.err) == 1u);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 12000);
}

BOOST_AUTO_TEST_CASE(run_create_show_and_retry_from_the_command_line) {
  auto parts = write_file("parts.ndjson", "{\"key\":\"s1\",\"payload\":{\"ms\":1}}\n"
                                          "{\"key\":\"s2\",\"payload\":{\"ms\":\"x\"}}\n");
  auto created = run_cli({"run", "create", "--type", "sleep", "--partitions", parts,
                          "--on-complete", "noop", "--max-attempts", "1", "--label", "nightly"});
  BOOST_REQUIRE_EQUAL(created.exit_code, 0);
  auto id = std::to_string(std::stoll(created.out));
  auto show = run_cli({"run", "show", id, "--json"});
  auto j = nlohmann::json::parse(show.out);
  BOOST_TEST(j["status"] == "running");
  BOOST_TEST(j["counts"]["expected"] == 2);
  BOOST_TEST(j["counts"]["queued"] == 2);
  BOOST_TEST(j["partitions"].size() == 2u);
  db.execute("UPDATE leasehold.jobs SET status = 'failed', attempts = 1 WHERE partition_key = 's2'");
  auto retried = run_cli({"run", "retry", id, "--partition", "s2"});
  BOOST_TEST(retried.out == "queued again: s2\n");
  auto nothing = run_cli({"run", "retry", id, "--failed"});
  BOOST_TEST(nothing.out == "nothing to retry: no matching partition is failed\n");
  auto table = run_cli({"run", "show", id});
  BOOST_TEST(table.out.find("queued 2") != std::string::npos, table.out);
  // Bad input: one line, nothing written.
  auto dup = write_file("dup.ndjson", "{\"key\":\"a\"}\n{\"key\":\"a\"}\n");
  auto bad = run_cli({"run", "create", "--type", "noop", "--partitions", dup});
  BOOST_TEST(bad.exit_code != 0);
  BOOST_TEST(bad.err.find("dup.ndjson:2: duplicate partition key") != std::string::npos, bad.err);
  BOOST_TEST(run_cli({"run", "retry", id}).exit_code != 0);
  BOOST_TEST(run_cli({"run", "show", "999"}).err.find("no run with id 999") != std::string::npos);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.runs") == 1);
}

BOOST_AUTO_TEST_CASE(concurrent_first_migrations_apply_each_version_once) {
  db.execute("DROP SCHEMA leasehold CASCADE");
  std::vector<std::unique_ptr<background_process>> procs;
  for (int i = 0; i < 5; ++i)
    procs.push_back(std::make_unique<background_process>(
      std::vector<std::string>{leasehold_bin(), "migrate"},
      "/tmp/leasehold-migrate-" + std::to_string(i) + ".log",
      std::map<std::string, std::string>{{"DATABASE_URL", test_dsn()}}));
  int applied_somewhere = 0;
  for (auto& p : procs) {
    BOOST_TEST(p->wait(20000) == 0, p->log());
    if (p->log().find("applied 0 migrations") == std::string::npos)
      ++applied_somewhere;
  }
  BOOST_TEST(applied_somewhere == 1); // one did the work, four found it done
  BOOST_TEST(count("SELECT count(*) FROM leasehold.schema_migrations")
             == count("SELECT max(version) FROM leasehold.schema_migrations"));
}

BOOST_AUTO_TEST_CASE(migrate_is_idempotent) {
  auto first = run_cli({"migrate"});
  BOOST_TEST(first.exit_code == 0);
  BOOST_TEST(first.out == "applied 0 migrations\n"); // the fixture migrated
  BOOST_TEST(count("SELECT count(*) FROM leasehold.schema_migrations")
             == count("SELECT max(version) FROM leasehold.schema_migrations"));
}

BOOST_AUTO_TEST_SUITE_END()
