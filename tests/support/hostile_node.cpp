#include "tests/support/hostile_node.hpp"

#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

namespace leasehold::test {

using namespace std::chrono_literals;

std::vector<std::string> hostile_bodies() {
  std::vector<std::string> bodies = {
    "", "{", "}", "null", "[]", "\"x\"", "{}", "0", "1e999", "{\"type\":}",
    std::string(100000, '[') + std::string(100000, ']'),
    "{\"type\":\"noop\",\"payload\":" + std::string(5000, '{'),
    "{\"type\":\"noop\",\"payload\":\"" + std::string(2 << 20, 'b') + "\"}",
    "{\"type\":\"noop\",\"payload\":\"" + std::string((1 << 20) - 10, 'b') + "\"}",
    "{\"type\":\"no\xffop\"}", "{\"type\":\"noop\",\"payload\":{\"s\":\"\xc3\x28\"}}",
    std::string("{\"type\":\"noop\"}\0junk", 20), std::string("{\"type\":\"no\0op\"}", 16),
    R"({"type":"no\u0000op"})", R"({"type":"noop","payload":{"s":"\u0000"}})",
    R"({"type":"noop","payload":{"\u0000":1}})", R"({"type":"\ud800"})",
    R"({"type":"noop","priority":1e999})", R"({"type":"noop","priority":99999999999999999999})",
    R"({"type":"noop","priority":-99999999999999999999})", R"({"type":"noop","priority":1.5})",
    R"({"type":"noop","priority":"1"})", R"({"type":"noop","priority":40000})",
    R"({"type":"noop","max_attempts":0})", R"({"type":"noop","max_attempts":-1})",
    R"({"type":"noop","max_attempts":2147483648})", R"({"type":"noop","max_attempts":true})",
    R"({"type":"noop","run_at":"garbage"})", R"({"type":"noop","run_at":"'; DROP TABLE x; --"})",
    R"({"type":"noop","run_at":"99999-01-01"})", R"({"type":"noop","run_at":5})",
    R"({"type":"noop","queue":""})", R"({"type":"noop","queue":"a\tb"})",
    R"({"type":"noop","correlation_id":")" + std::string(201, 'c') + "\"}",
    R"({"type":"noop","extra":1})", R"({"type":["noop"]})", R"({"type":null})",
    // Runs and their retries.
    R"({"type":"noop","partitions":[]})", R"({"type":"noop","partitions":{}})",
    R"({"type":"noop","partitions":[{"key":""}]})", R"({"type":"noop","partitions":[{"key":"a\u0000"}]})",
    R"({"type":"noop","partitions":[{"key":"\ud800"}]})", R"({"type":"noop","partitions":[{"key":5}]})",
    R"({"type":"noop","partitions":[{"key":"a"},{"key":"a"}]})", R"({"type":"noop","partitions":[null]})",
    R"({"type":"noop","partitions":[{"key":"a","payload":1e999}]})",
    R"({"type":"noop","max_attempts":0,"partitions":[{"key":"a"}]})",
    R"({"type":"noop","label":"","partitions":[{"key":"a"}]})",
    R"({"partition":""})", R"({"partition":"a\u0000b"})", R"({"partition":5})",
    R"({"partition":null})", R"({"partition":"\udfff"})", "{\"partition\":\"\xff\"}",
    R"({"partition":")" + std::string(300, 'p') + "\"}", R"({"partition":"a","x":1})"};
  std::string many = R"({"type":"noop","partitions":[)";
  for (int i = 0; i < 20000; ++i)
    many += (i ? ",{\"key\":\"k" : "{\"key\":\"k") + std::to_string(i) + "\"}";
  bodies.push_back(many + "]}");
  return bodies;
}

void hostile_node::start(std::vector<std::string> extra) {
  extra.insert(extra.begin(), {"--http-token", hostile_token, "--concurrency", "4"});
  proc = start_node(extra);
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return !http_address(*proc).empty(); }, 20s),
                        proc->log());
  auto address = http_address(*proc);
  port = std::stoi(address.substr(address.rfind(':') + 1));
}

hostile_node::~hostile_node() {
  if (proc) {
    proc->signal(SIGTERM);
    proc->wait(15000);
  }
}

bool hostile_node::alive() {
  return proc && proc->wait(0) == -1;
}

int64_t hostile_node::written() {
  return count("SELECT count(*) FROM leasehold.all_jobs")
         + count("SELECT count(*) FROM leasehold.runs");
}

void hostile_node::expect_answer(const raw_response& r, const std::string& what) {
  BOOST_TEST((r.status >= 200 && r.status < 500), what << " -> " << r.status << " " << r.head);
  if (r.status < 400 || r.status >= 500)
    return;
  // A 409 (nothing to retry, cancel) says so in "message"; errors in "error".
  const char* key = r.status == 409 ? "message" : "error";
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  BOOST_TEST((j.is_object() && j.contains(key) && j[key].is_string()),
             what << " -> " << r.status << " body " << printable(r.body));
  if (!j.is_object() || !j.contains(key) || !j[key].is_string())
    return;
  auto error = j[key].get<std::string>();
  bool printable_line = !error.empty() && error.size() <= 500
    && std::none_of(error.begin(), error.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20; });
  BOOST_TEST(printable_line, what << " -> error " << printable(error));
}

} // namespace leasehold::test
