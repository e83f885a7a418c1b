// Hostile files and values the argument sweep cannot carry: endless input
// (/dev/zero), directories, NUL bytes in files, absurd durations. Each is
// one line and a non-zero exit, in bounded memory and time, writing nothing.
#include <filesystem>
#include <fstream>

#include <boost/test/unit_test.hpp>

#include "tests/support/hostile_values.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  auto path = "/tmp/leasehold-files-" + std::to_string(getpid()) + "-" + name;
  std::ofstream{path} << text;
  return path;
}

struct hostile_files : pg_fixture {
  ~hostile_files() { // the files this process wrote (one is 50 MB)
    auto prefix = "leasehold-files-" + std::to_string(getpid()) + "-";
    for (const auto& f : std::filesystem::directory_iterator{"/tmp"})
      if (f.path().filename().string().rfind(prefix, 0) == 0)
        std::filesystem::remove(f.path());
  }

  int64_t written() {
    return count("SELECT count(*) FROM leasehold.all_jobs")
           + count("SELECT count(*) FROM leasehold.runs");
  }

  // `leasehold ARGS` with at most 1 GiB of address space, 30s at most:
  // refused with one line naming `says`, exit `code`, nothing written.
  void refused(std::vector<std::string> args, const std::string& says, int code = 1) {
    std::vector<std::string> argv = {"/bin/sh", "-c", "ulimit -v 1048576; exec \"$@\"", "sh",
                                     leasehold_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto started = std::chrono::steady_clock::now();
    auto r = run_for(argv, {{"DATABASE_URL", test_dsn()}}, 30000);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started).count();
    std::string what = args[0] + " " + (args.size() > 1 ? args[1] : "") + " "
                       + (args.size() > 2 ? args[2] : "");
    BOOST_TEST(r.exit_code == code, what << ": exit " << r.exit_code << " " << printable(r.err));
    BOOST_TEST(line_count(r.err) == 1u, what << ": " << printable(r.err));
    BOOST_TEST(r.err.find(says) != std::string::npos, what << ": " << printable(r.err));
    BOOST_TEST(ms < 10000, what << " took " << ms << "ms");
    BOOST_TEST(written() == 0);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(hostile_files_cli, hostile_files)

// Found here: `enqueue --file /dev/zero` read one endless line until memory
// ran out (std::bad_alloc); so did a secret file.
BOOST_AUTO_TEST_CASE(an_endless_line_is_refused_in_bounded_memory) {
  refused({"enqueue", "--file", "/dev/zero"}, "/dev/zero:1: line longer than");
  refused({"run", "create", "--type", "noop", "--partitions", "/dev/zero"},
          "/dev/zero:1: line longer than");
  auto long_line = write_file("long.ndjson", "{\"type\":\"noop\"}\n"
                                               + std::string(50 << 20, ' '));
  refused({"enqueue", "--file", long_line}, ":2: line longer than");
  refused({"--database-url-file", "/dev/zero", "workers"}, "longer than", 2);
  refused({"node", "--http-token-file", "/dev/zero", "--http-listen", "off"}, "longer than", 2);
  refused({"node", "--http-read-token-file", "/dev/zero", "--http-listen", "off"},
          "longer than", 2);
}

// Found here: a directory as --file enqueued nothing and exited 0.
BOOST_AUTO_TEST_CASE(a_directory_is_not_a_file) {
  refused({"enqueue", "--file", "/tmp"}, "cannot read");
  refused({"run", "create", "--type", "noop", "--partitions", "/tmp"}, "cannot read");
  refused({"enqueue", "--file", "/nonexistent/jobs.ndjson"}, "cannot open");
}

// Found here: a NUL byte in a secret file cut the secret short, silently.
BOOST_AUTO_TEST_CASE(nul_bytes_in_files_are_refused) {
  refused({"enqueue", "--file", write_file("nul.ndjson", std::string("{\"type\":\"no\0op\"}\n", 17))},
          ":1: ");
  refused({"run", "create", "--type", "noop", "--partitions",
           write_file("nul-key.ndjson", "{\"key\":\"a\\u0000b\"}\n")}, ":1: ");
  refused({"run", "create", "--type", "noop", "--partitions",
           write_file("empty-key.ndjson", "{\"key\":\"\"}\n")}, ":1: ");
  auto url = write_file("url-nul", test_dsn() + std::string("\0?host=elsewhere\n", 17));
  refused({"--database-url-file", url, "workers"}, "control character", 2);
  auto token = write_file("token-nul", std::string("tok\0en\n", 7));
  refused({"node", "--http-token-file", token, "--http-listen", "off"}, "control character", 2);
}

// Found here: 999999999999h was taken (3.6e18 ms) and overflowed later.
BOOST_AUTO_TEST_CASE(durations_are_capped_at_a_year) {
  for (const char* d : {"8761h", "999999999999h", "525601m", "31536001s", "31536000001ms"}) {
    refused({"node", "--lease-ttl", d, "--http-listen", "off"}, "at most 8760h");
    refused({"node", "--stop-timeout", d, "--http-listen", "off"}, "at most 8760h");
    refused({"health", "--lease-ttl", d}, "at most 8760h");
    refused({"verify", "--grace", d}, "at most 8760h");
  }
  auto r = run({leasehold_bin(), "health", "--lease-ttl", "8760h"},
               {{"DATABASE_URL", test_dsn()}});
  BOOST_TEST(r.exit_code == 0, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
