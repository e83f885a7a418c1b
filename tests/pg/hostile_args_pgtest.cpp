// Hostile values in every flag and positional of every command of the real
// `leasehold` binary, found from its own --help so that a new flag is
// covered the day it lands: malformed, absurd numbers, SQL metacharacters,
// invalid UTF-8, control characters, 100 KB. Each run ends by itself with
// exit 0 (the value was fine and is stored verbatim) or with one line on
// stderr and a non-zero exit, never a signal or a hang, and a refused
// command writes nothing.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "tests/support/hostile_values.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;

namespace {

std::string tmp(const std::string& name) {
  return "/tmp/leasehold-args-" + std::to_string(getpid()) + "-" + name;
}

std::string write_file(const std::string& name, const std::string& text) {
  auto path = tmp(name);
  std::ofstream{path} << text;
  return path;
}

struct option {
  std::string name; // "--limit", or a positional's name
  bool positional = false;
  bool takes_value = true;
};

// The options and positionals `leasehold WORDS --help` lists.
std::vector<option> options_of(const std::vector<std::string>& words) {
  std::vector<std::string> argv{leasehold_bin()};
  argv.insert(argv.end(), words.begin(), words.end());
  argv.push_back("--help");
  auto help = run(argv).out;
  static const std::regex opt{R"(^  (?:-\w,)?(--[a-z][a-z-]*)( [A-Z]+)?)"};
  static const std::regex pos{R"(^  ([a-z_]+) [A-Z]+)"};
  std::vector<option> out;
  bool positionals = false;
  std::istringstream lines{help};
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (line.rfind("Positionals:", 0) == 0 || line.rfind("Options:", 0) == 0
        || line.rfind("Subcommands:", 0) == 0)
      positionals = line[0] == 'P';
    else if (positionals && std::regex_search(line, m, pos))
      out.push_back({m[1], true, true});
    else if (std::regex_search(line, m, opt) && m[1] != "--help")
      out.push_back({m[1], false, m[2].matched});
  }
  return out;
}

struct command {
  std::vector<std::string> words;
  // Valid values for what the command needs, unless it is under test.
  std::vector<std::pair<std::string, std::string>> needs;
  std::vector<std::string> extra; // flag and value pairs
};

struct hostile_args : pg_fixture {
  std::string parts = write_file("parts.ndjson", "{\"key\":\"a\"}\n");
  // Commands run here: a path flag given "abc" creates ./abc.
  std::string cwd = tmp("cwd");
  int runs = 0;

  hostile_args() { std::filesystem::create_directories(cwd); }
  ~hostile_args() { std::filesystem::remove_all(cwd); }

  // argv run in `cwd`.
  std::vector<std::string> in_cwd(const std::vector<std::string>& argv) {
    std::vector<std::string> out{"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

  int64_t written() {
    return count("SELECT count(*) FROM leasehold.all_jobs")
           + count("SELECT count(*) FROM leasehold.runs");
  }

  // Runs one hostile command line and checks what it did.
  void expect_clean(const std::vector<std::string>& argv, const std::string& what,
                    int timeout_ms = 20000) {
    auto before = written();
    auto r = run_for(in_cwd(argv), {{"DATABASE_URL", test_dsn()}}, timeout_ms);
    ++runs;
    BOOST_TEST((r.exit_code >= 0 && r.exit_code <= 3),
               what << ": exit " << r.exit_code << " " << printable(r.err));
    if (r.exit_code == 0)
      return;
    BOOST_TEST((line_count(r.err) == 1 && r.err.back() == '\n'),
               what << ": " << line_count(r.err) << " lines: " << printable(r.err));
    BOOST_TEST(r.err.rfind("leasehold: ", 0) == 0, what << ": " << printable(r.err));
    BOOST_TEST(r.err.size() <= 600u, what << ": " << r.err.size() << " bytes: "
                                          << printable(r.err));
    BOOST_TEST(written() == before, what << ": wrote while failing");
  }

  // Every option of `c` with every hostile value.
  void attack(const command& c) {
    for (const auto& o : options_of(c.words)) {
      for (const auto& value : hostile_values()) {
        std::vector<std::string> argv{leasehold_bin()};
        argv.insert(argv.end(), c.words.begin(), c.words.end());
        for (const auto& [name, valid] : c.needs)
          if (name != o.name && name[0] != '-')
            argv.push_back(valid);
        if (o.positional)
          argv.push_back(value);
        for (const auto& [name, valid] : c.needs)
          if (name != o.name && name[0] == '-') {
            argv.push_back(name);
            if (!valid.empty())
              argv.push_back(valid);
          }
        for (size_t i = 0; i + 1 < c.extra.size(); i += 2)
          if (c.extra[i] != o.name)
            argv.insert(argv.end(), {c.extra[i], c.extra[i + 1]});
        if (!o.positional) {
          argv.push_back(o.name);
          argv.push_back(value);
        }
        std::string what;
        for (size_t i = 1; i < argv.size(); ++i)
          what += " " + printable(argv[i]).substr(0, 40);
        expect_clean(argv, what);
      }
    }
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(hostile_args_cli, hostile_args)

BOOST_AUTO_TEST_CASE(every_flag_of_the_reading_commands) {
  for (const command& c : std::vector<command>{
         {{"workers"}, {}, {}}, {{"version"}, {}, {}}, {{"migrate"}, {}, {}},
         {{"health"}, {}, {}}, {{"dead-jobs"}, {}, {}},
         {{"chain"}, {{"correlation_id", "c-1"}}, {}}, {{"job"}, {{"id", "1"}}, {}},
         {{"run", "show"}, {{"run", "1"}}, {}}, {{"verify"}, {}, {}}})
    attack(c);
  BOOST_TEST_MESSAGE(runs << " runs");
}

BOOST_AUTO_TEST_CASE(every_flag_of_the_writing_commands) {
  attack({{"enqueue"}, {{"type", "noop"}}, {}});
  attack({{"run", "create"}, {{"--type", "noop"}, {"--partitions", parts}}, {}});
  attack({{"run", "retry"}, {{"run", "1"}, {"--failed", ""}}, {}});
  BOOST_TEST_MESSAGE(runs << " runs");
}

// A node's flags are checked before it connects: with no database to reach,
// each hostile value ends in one line, whether the flag refused it or the
// connection failed after it was accepted.
BOOST_AUTO_TEST_CASE(every_flag_of_node) {
  attack({{"node"},
          {},
          {"--http-listen", "off", "--database-url",
           "postgresql://leasehold@127.0.0.1:1/none?connect_timeout=2"}});
  BOOST_TEST_MESSAGE(runs << " runs");
}

// Found here: a queue, worker base or type Postgres cannot store (invalid
// UTF-8) started a node cleanly whose every claim then failed, forever.
// With a database to reach: each value either stops the node at once with
// one line, or the node runs (the value is stored as given) without errors.
BOOST_AUTO_TEST_CASE(node_flags_that_reach_the_database) {
  const std::vector<std::string> values = {
    "", "'; DROP TABLE leasehold.jobs; --", "\xff\xfe", "a\nb", std::string(5000, 'x'),
    "99999999999999999999", "-1"};
  for (const char* flag : {"--worker-base", "--worker-type", "--queue", "--trace-cutoff",
                           "--log-level", "--trace-policy", "--http-listen", "--exec-env-pass",
                           "--alert-dead", "--concurrency", "--execution-ledger", "--exec",
                           "--max-payload-bytes", "--http-token"}) {
    for (const auto& value : values) {
      std::vector<std::string> argv = {leasehold_bin(), "node", "--poll-interval", "100ms"};
      if (std::string{flag} != "--http-listen")
        argv.insert(argv.end(), {"--http-listen", "off"});
      argv.insert(argv.end(), {flag, value});
      auto what = std::string{flag} + " " + printable(value);
      static int n = 0;
      background_process node{in_cwd(argv), tmp("node" + std::to_string(++n) + ".log"),
                              {{"DATABASE_URL", test_dsn()}}};
      int code = node.wait(2000);
      if (code == -1) { // it runs: without a warning, and it stops cleanly
        auto log = node.log();
        bool clean = log.find("\"level\":\"warning\"") == std::string::npos
                     && log.find("\"level\":\"error\"") == std::string::npos;
        BOOST_TEST(clean, what << ": " << printable(log.substr(log.find("\"level\":\"w") + 1)));
        node.signal(SIGTERM);
        BOOST_TEST(node.wait(20000) == 0, what);
        continue;
      }
      auto log = node.log();
      auto last = log.substr(log.rfind('\n', log.size() - 2) + 1);
      BOOST_TEST((code >= 1 && code <= 3), what << ": exit " << code << " " << printable(log));
      BOOST_TEST(last.rfind("leasehold: ", 0) == 0, what << ": " << printable(last));
      BOOST_TEST(last.size() <= 600u, what);
      BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances WHERE status IN"
                       " ('STARTING', 'RUNNING')") == 0, what << ": left a live instance");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_global_flags) {
  for (const auto& value : hostile_values()) {
    expect_clean({leasehold_bin(), "workers", "--database-url", value}, printable(value));
    auto file = write_file("url", value + "\n");
    expect_clean({leasehold_bin(), "workers", "--database-url-file", file}, printable(value));
    expect_clean({leasehold_bin(), value}, printable(value));
  }
}

BOOST_AUTO_TEST_SUITE_END()
