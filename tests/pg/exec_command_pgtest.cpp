// `leasehold node --exec TYPE='/path/prog ARG...'` against the real binary:
// the program gets its arguments as written (quotes group, no shell) and the
// job in LEASEHOLD_* variables, never DATABASE_URL; a hostile spec is one
// line on stderr and a non-zero exit before the node starts.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

std::string tmp(const std::string& name) {
  return "/tmp/leasehold-execcmd-" + std::to_string(getpid()) + "-" + name;
}

std::string read_all(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// NAME=value lines of `env` output.
std::map<std::string, std::string> parse_env(const std::string& text) {
  std::map<std::string, std::string> env;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos)
      env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(exec_command, pg_fixture)

BOOST_AUTO_TEST_CASE(a_program_gets_its_arguments_and_the_job_in_its_environment) {
  // Attempt N writes run.N.env and run.N.args; the first attempt fails.
  auto dir = tmp("runs");
  auto script = tmp("dump.sh");
  for (const char* f : {".1.env", ".1.args", ".2.env", ".2.args"})
    unlink((dir + f).c_str()); // a stale file must not pass for this run's
  std::ofstream{script} << "#!/bin/sh\n"
                        << "out=" << dir << ".$LEASEHOLD_ATTEMPT\n"
                        << "env > \"$out.env\"\n"
                        << "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > \"$out.args\"\n"
                        << "[ \"$LEASEHOLD_ATTEMPT\" -ge 2 ]\n";
  chmod(script.c_str(), 0755);
  auto id = value("SELECT id FROM leasehold.enqueue('dump', '{\"k\":1}', queue => 'media',"
                  " max_attempts => 3, correlation_id => 'corr-42')");
  // DATABASE_URL in the node's environment (not a flag), so the program
  // would inherit it if it were not held back; a stale LEASEHOLD_JOB_ID
  // must be replaced by the job's.
  std::map<std::string, std::string> env = {{"DATABASE_URL", test_dsn()},
                                            {"LEASEHOLD_JOB_ID", "999999"}};
  background_process node{
    {leasehold_bin(), "node", "--poll-interval", "100ms", "--retry-base", "100ms",
     "--http-listen", "off", "--queue", "media=2", "--exec",
     "dump=" + script + " --flag 'two words' \"it's\" * $HOME a'b c'd"},
    tmp("node.log"), env};
  BOOST_REQUIRE_MESSAGE(wait_until([&] {
    return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "succeeded";
  }, 15s), node.log());
  node.signal(SIGTERM);
  BOOST_TEST(node.wait(10000) == 0);

  BOOST_TEST(read_all(dir + ".2.args")
             == "[--flag]\n[two words]\n[it's]\n[*]\n[$HOME]\n[ab cd]\n");
  for (int attempt : {1, 2}) {
    auto seen = parse_env(read_all(dir + "." + std::to_string(attempt) + ".env"));
    auto run = "FROM leasehold.job_runs WHERE job_id = " + id
               + " AND attempt = " + std::to_string(attempt);
    BOOST_TEST(seen["LEASEHOLD_JOB_ID"] == id);
    BOOST_TEST(seen["LEASEHOLD_ATTEMPT"] == std::to_string(attempt));
    BOOST_TEST(seen["LEASEHOLD_MAX_ATTEMPTS"] == "3");
    BOOST_TEST(seen["LEASEHOLD_TYPE"] == "dump");
    BOOST_TEST(seen["LEASEHOLD_QUEUE"] == "media");
    BOOST_TEST(seen["LEASEHOLD_CORRELATION_ID"] == "corr-42");
    BOOST_TEST(!seen["LEASEHOLD_TRACE_ID"].empty());
    BOOST_TEST(seen["LEASEHOLD_TRACE_ID"] == value("SELECT trace_id " + run));
    BOOST_TEST(!seen["LEASEHOLD_WORKER_ID"].empty());
    BOOST_TEST(seen["LEASEHOLD_WORKER_ID"] == value("SELECT worker_id " + run));
    BOOST_TEST(seen.count("DATABASE_URL") == 0);
  }
}

BOOST_AUTO_TEST_CASE(a_cancelled_program_gets_sigterm_with_default_signal_handling) {
  // The node blocks SIGTERM in its threads (its own sigwait takes it) and
  // ignores SIGPIPE: a program it starts must not inherit either, or a
  // cancel cannot stop it politely and it never dies of a closed pipe.
  auto mark = tmp("term.mark"), status = tmp("term.status");
  unlink(mark.c_str());
  unlink(status.c_str());
  auto script = tmp("term.sh");
  std::ofstream{script} << "#!/bin/sh\n"
                        << "grep -E '^Sig(Blk|Ign)' /proc/$$/status > " << status << "\n"
                        << "trap 'echo term > " << mark << "; exit 0' TERM\n"
                        << "sleep 60 & wait\n";
  chmod(script.c_str(), 0755);
  background_process node{
    {leasehold_bin(), "node", "--poll-interval", "100ms", "--heartbeat-interval", "200ms",
     "--http-listen", "off", "--exec", "term=" + script},
    tmp("term-node.log"), {{"DATABASE_URL", test_dsn()}}};
  auto id = value("SELECT id FROM leasehold.enqueue('term')");
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return !read_all(status).empty(); }, 15s), node.log());
  db.cancel_job(std::stoll(id));
  BOOST_TEST(wait_until([&] { return read_all(mark) == "term\n"; }, 3s),
             "the program never saw SIGTERM");
  std::istringstream lines{read_all(status)};
  for (std::string line; std::getline(lines, line);) {
    auto mask = std::stoull(line.substr(line.find(':') + 1), nullptr, 16);
    if (line.rfind("SigBlk", 0) == 0)
      BOOST_TEST(mask == 0u, line);
    if (line.rfind("SigIgn", 0) == 0)
      BOOST_TEST((mask & (1u << (SIGPIPE - 1))) == 0u, line);
  }
  node.signal(SIGTERM);
  BOOST_TEST(node.wait(10000) == 0);
}

BOOST_AUTO_TEST_CASE(a_hostile_exec_spec_is_one_line_and_a_failed_start) {
  // Port 1: were the spec accepted, the node would fail on the database
  // instead, and its message would not name --exec.
  std::map<std::string, std::string> env = {
    {"DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none"}};
  for (const std::string& spec : {
         std::string{"t='/bin/true"}, std::string{"t=\"/bin/true --x"},
         std::string{"t=/bin/true 'a b"}, std::string{"t="}, std::string{"t=   "},
         std::string{"t=''"}, std::string{"t=/bin/true\n--evil"},
         std::string{"t=/bin/true\x1b[31m"}, std::string{"t=/bin/true 'a\tb'"},
         std::string{"t=/bin/true\x7f"}, std::string{"t=/nonexistent/prog --flag"}}) {
    auto r = run_for({leasehold_bin(), "node", "--http-listen", "off", "--exec", spec},
                     env, 10000);
    BOOST_TEST(r.exit_code != 0, spec);
    BOOST_TEST(r.exit_code != -1, spec); // it exits, rather than runs
    BOOST_TEST(r.out.empty(), spec);
    BOOST_TEST(r.err.find("--exec") != std::string::npos, spec << ": " << r.err);
    // One line, and no control character of the spec echoed into it.
    BOOST_REQUIRE(!r.err.empty());
    BOOST_TEST(r.err.find('\n') == r.err.size() - 1, spec << ": " << r.err);
    for (char c : r.err.substr(0, r.err.size() - 1))
      BOOST_TEST((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f), spec << ": " << r.err);
  }
}

BOOST_AUTO_TEST_SUITE_END()
