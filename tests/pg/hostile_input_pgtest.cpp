// Hostile input at every entry point (CLI, bulk file, runs, HTTP): too
// deep, too big, bad encoding, NUL. Each gets one clear line or a 400,
// a non-zero exit, and nothing is written.
#include <httplib.h>

#include <fstream>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* token = "hostile-token";

std::string nested(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string write_file(const std::string& name, const std::string& text) {
  auto path = "/tmp/leasehold-hostile-" + std::to_string(getpid()) + "-" + name;
  std::ofstream{path} << text;
  return path;
}

run_result cli(std::vector<std::string> args) {
  args.insert(args.begin(), leasehold_bin());
  return run(args, {{"DATABASE_URL", test_dsn()}});
}

size_t lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

struct hostile : pg_fixture {
  int64_t written() {
    return count("SELECT count(*) FROM leasehold.all_jobs")
           + count("SELECT count(*) FROM leasehold.runs");
  }

  // A rejected command: exit 1 (not a signal), one line naming `says`.
  void rejected(const run_result& r, const std::string& says) {
    BOOST_TEST(r.exit_code == 1, "exit " << r.exit_code << " " << r.err.substr(0, 300));
    BOOST_TEST(lines(r.err) == 1u, r.err.substr(0, 300));
    BOOST_TEST(r.err.size() < 400u);
    BOOST_TEST(r.err.find(says) != std::string::npos, r.err.substr(0, 300));
    BOOST_TEST(written() == 0);
  }
};

// A node whose HTTP bridge takes writes.
struct hostile_http : hostile {
  std::unique_ptr<node> n;
  std::unique_ptr<httplib::Client> http;

  void start(node_config cfg = fast_node_config()) {
    cfg.http_token = token;
    cfg.queues = {{"nowhere", 1}}; // claim nothing: what is written stays visible
    n = std::make_unique<node>(cfg, builtin_handlers());
    n->start();
    BOOST_REQUIRE(n->http_port() > 0);
    http = std::make_unique<httplib::Client>("127.0.0.1", n->http_port());
    http->set_read_timeout(20);
  }

  ~hostile_http() {
    if (n)
      n->stop();
  }

  // POSTs `body`; expects `status` and a JSON error naming `says`.
  void refused(const std::string& path, const std::string& body, int status,
               const std::string& says) {
    auto r = http->Post(path.c_str(), {{"Authorization", std::string{"Bearer "} + token}},
                        body, "application/json");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == status, r->body.substr(0, 300));
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    BOOST_TEST((j.is_object() && j.contains("error")), r->body.substr(0, 300));
    if (j.is_object() && j.contains("error"))
      BOOST_TEST(j["error"].get<std::string>().find(says) != std::string::npos,
                 j["error"].get<std::string>());
    BOOST_TEST(written() == 0);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(hostile_cli, hostile)

// Issue 16: one payload 100,000 deep made `enqueue --file` die of SIGSEGV.
BOOST_AUTO_TEST_CASE(a_deep_payload_in_a_bulk_file_is_one_line_naming_it) {
  auto path = write_file("deep.ndjson", "{\"type\":\"noop\"}\n{\"type\":\"noop\",\"payload\":"
                                        + nested(100000) + "}\n");
  rejected(cli({"enqueue", "--file", path}), ":2: ");
  rejected(cli({"enqueue", "--file", path}), "deep");
}

BOOST_AUTO_TEST_CASE(an_oversized_payload_in_a_bulk_file_writes_nothing) {
  std::string big = "{\"type\":\"noop\",\"payload\":{\"blob\":\"" + std::string(2 << 20, 'b')
                    + "\"}}\n";
  auto path = write_file("big.ndjson", "{\"type\":\"noop\"}\n" + big);
  rejected(cli({"enqueue", "--file", path}), ":2: ");
  rejected(cli({"enqueue", "--file", path}), "1048576");
}

BOOST_AUTO_TEST_CASE(a_deep_or_hostile_payload_argument_is_refused) {
  rejected(cli({"enqueue", "noop", "--payload", nested(50000)}), "deep");
  rejected(cli({"enqueue", "noop", "--payload", R"({"s":"a\u0000b"})"}), "\\u0000");
  rejected(cli({"enqueue", "noop", "--payload", "{\"s\":\"\xff\"}"}), "JSON");
}

BOOST_AUTO_TEST_CASE(the_limit_is_configurable_and_checked) {
  std::string payload = "{\"blob\":\"" + std::string(100, 'b') + "\"}";
  rejected(cli({"enqueue", "noop", "--payload", payload, "--max-payload-bytes", "50"}),
           "over the limit of 50 bytes");
  auto file = write_file("limit.ndjson", "{\"type\":\"noop\",\"payload\":" + payload + "}\n");
  rejected(cli({"enqueue", "--file", file, "--max-payload-bytes", "50"}), ":1: ");
  auto parts = write_file("limit-parts.ndjson", "{\"key\":\"a\",\"payload\":" + payload + "}\n");
  rejected(cli({"run", "create", "--type", "noop", "--partitions", parts,
                "--max-payload-bytes", "50"}), "over the limit of 50 bytes");
  rejected(cli({"enqueue", "noop", "--max-payload-bytes", "0"}), "invalid --max-payload-bytes 0");
  rejected(cli({"enqueue", std::string(201, 't')}), "\"type\"");
  rejected(cli({"enqueue", "noop", "--queue", "a\tb"}), "--queue");
  rejected(cli({"run", "create", "--type", "noop", "--partitions", parts, "--label",
                std::string(300, 'l')}), "--label");
  // A larger limit lets a larger payload through.
  auto ok = cli({"enqueue", "--file", file, "--max-payload-bytes", "200"});
  BOOST_TEST(ok.exit_code == 0, ok.err);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 1);
}

BOOST_AUTO_TEST_CASE(run_partitions_are_bounded_too) {
  auto deep = write_file("deep-parts.ndjson", "{\"key\":\"a\"}\n{\"key\":\"b\",\"payload\":"
                                              + nested(100000) + "}\n");
  rejected(cli({"run", "create", "--type", "noop", "--partitions", deep}), ":2: ");
  auto big = write_file("big-parts.ndjson", "{\"key\":\"a\",\"payload\":\""
                                            + std::string(2 << 20, 'b') + "\"}\n");
  rejected(cli({"run", "create", "--type", "noop", "--partitions", big}), "1048576");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(hostile_http_input, hostile_http)

// Issue 16: a payload 20,000 deep (under the body limit) answered 500.
BOOST_AUTO_TEST_CASE(deep_payloads_are_a_400) {
  start();
  refused("/jobs", "{\"type\":\"noop\",\"payload\":" + nested(20000) + "}", 400, "deep");
  refused("/runs", "{\"type\":\"noop\",\"partitions\":[{\"key\":\"a\",\"payload\":"
                     + nested(20000) + "}]}", 400, "deep");
  refused("/runs/1/retry", nested(20000), 400, "");
}

BOOST_AUTO_TEST_CASE(an_oversized_payload_is_a_400_naming_the_limit) {
  start();
  auto blob = "\"" + std::string((1 << 20) + 10, 'b') + "\"";
  refused("/jobs", "{\"type\":\"noop\",\"payload\":" + blob + "}", 400, "1048576");
  refused("/runs", "{\"type\":\"noop\",\"partitions\":[{\"key\":\"a\",\"payload\":"
                     + blob + "}]}", 400, "1048576");
}

BOOST_AUTO_TEST_CASE(the_node_limit_applies_to_http) {
  auto cfg = fast_node_config();
  cfg.max_payload_bytes = 100;
  start(cfg);
  auto payload = "{\"blob\":\"" + std::string(200, 'b') + "\"}";
  refused("/jobs", "{\"type\":\"noop\",\"payload\":" + payload + "}", 400,
          "over the limit of 100 bytes");
  refused("/runs", "{\"type\":\"noop\",\"partitions\":[{\"key\":\"a\",\"payload\":"
                     + payload + "}]}", 400, "over the limit of 100 bytes");
  // The body limit follows: 100 bytes + 64 KiB.
  refused("/jobs", std::string(70 * 1024, 'x'), 413, "too large");
}

BOOST_AUTO_TEST_CASE(nul_and_bad_encoding_are_a_400) {
  start();
  refused("/jobs", R"({"type":"noop","payload":{"s":"a\u0000b"}})", 400, "\\u0000");
  refused("/jobs", R"({"type":"no\u0000op"})", 400, "type");
  refused("/jobs", R"({"type":"noop","correlation_id":"c\u0000"})", 400, "correlation_id");
  refused("/jobs", "{\"type\":\"noop\",\"payload\":{\"s\":\"\xc3\x28\"}}", 400, "JSON");
  refused("/jobs", std::string("{\"type\":\"noop\"}\0", 16), 400, "JSON");
  refused("/jobs", "{\"type\":\"" + std::string(300, 't') + "\"}", 400, "type");
  // Query parameters: a NUL or invalid UTF-8 is a 400, not a 500.
  for (const char* path : {"/dead-jobs?type=%FF", "/dead-jobs?type=no%00op",
                           "/jobs?correlation_id=%C3%28", "/jobs?correlation_id=a%00b"}) {
    auto r = http->Get(path);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 400, path << " -> " << r->status << " " << r->body);
  }
}

BOOST_AUTO_TEST_SUITE_END()
