// Error texts and children a handler produces can never make an outcome
// unwritable: texts are valid UTF-8 and bounded, bad children fail the
// parent's attempt with their own clear error.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

std::string write_script(const std::string& name, const std::string& body) {
  auto path = "/tmp/leasehold-text-" + std::to_string(getpid()) + "-" + name;
  std::ofstream{path} << "#!/bin/sh\n" << body << "\n";
  chmod(path.c_str(), 0755);
  return path;
}

// Runs a node until every job has finished (or 10 s passed).
bool run_until_finished(pg_fixture& f, std::shared_ptr<handler_registry> handlers,
                        int64_t jobs, node_config cfg = fast_node_config()) {
  node n{cfg, std::move(handlers)};
  n.start();
  bool done = wait_until([&] {
    return f.count("SELECT count(*) FROM leasehold.all_jobs WHERE finished_at IS NOT NULL")
           >= jobs;
  }, 10s);
  n.stop();
  return done;
}

std::string last_error(pg_fixture& f, int64_t id) {
  return f.value("SELECT last_error FROM leasehold.all_jobs WHERE id = " + std::to_string(id));
}

std::string reason(pg_fixture& f, int64_t id) {
  return f.value("SELECT status || '/' || coalesce(last_error_code, '')"
                 " FROM leasehold.all_jobs WHERE id = " + std::to_string(id));
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(outcome_text, pg_fixture)

// Issue 16: 1,500 "█" on stderr, cut inside a character, made the failure
// unwritable; the job died ttl_exceeded without its error.
BOOST_AUTO_TEST_CASE(a_stderr_tail_cut_inside_a_character_is_still_recorded) {
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("blocks", make_exec_handler(
    write_script("blocks", "cat >/dev/null; yes '█' | head -n 1500 | tr -d '\\n' >&2; exit 1"),
    10s));
  auto id = enqueue(db, "blocks", "{}", 1);
  BOOST_REQUIRE(run_until_finished(*this, handlers, 1));
  BOOST_TEST(reason(*this, id) == "failed/max_attempts_exceeded");
  auto error = last_error(*this, id);
  BOOST_TEST(error.rfind("exit status 1: ███", 0) == 0u, error.substr(0, 40));
  BOOST_TEST(error.size() <= 4096u);
  BOOST_TEST(error.size() > 1000u);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.job_runs WHERE job_id = " + std::to_string(id)
                   + " AND outcome = 'failed'") == 1);
}

BOOST_AUTO_TEST_CASE(invalid_bytes_nul_and_huge_messages_are_cleaned_and_bounded) {
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("bytes", [](job_context&) {
    return handler_result::failure(std::string("bad \xff\xfe bytes\0here \xe2\x96", 20));
  });
  handlers->add("huge", [](job_context&) {
    return handler_result::invalid(std::string(100000, 'x'));
  });
  handlers->add("thrower", [](job_context&) -> handler_result {
    throw std::runtime_error("nope \xc3");
  });
  auto bytes = enqueue(db, "bytes", "{}", 1);
  auto huge = enqueue(db, "huge", "{}", 1);
  auto thrower = enqueue(db, "thrower", "{}", 1);
  BOOST_REQUIRE(run_until_finished(*this, handlers, 3));
  BOOST_TEST(last_error(*this, bytes) == "bad \xEF\xBF\xBD\xEF\xBF\xBD byteshere \xEF\xBF\xBD");
  BOOST_TEST(reason(*this, huge) == "failed/precondition_failed");
  BOOST_TEST(last_error(*this, huge) == std::string(4096, 'x'));
  BOOST_TEST(last_error(*this, thrower) == "handler threw: nope \xEF\xBF\xBD");
}

// A child the table would refuse used to fail the whole completion batch;
// now the parent's attempt fails at once, saying which child and why.
BOOST_AUTO_TEST_CASE(a_bad_child_fails_its_parent_with_a_clear_error) {
  auto handlers = std::make_shared<handler_registry>();
  add_builtin_handlers(*handlers);
  struct bad_child {
    std::string name;
    std::function<void(job_context&)> add;
    std::string says;
  };
  std::string deep(4000, '[');
  deep += std::string(4000, ']');
  std::vector<bad_child> cases = {
    {"priority", [](job_context& c) { c.enqueue("noop", {}, "", 40000); }, "priority"},
    {"empty_type", [](job_context& c) { c.enqueue(""); }, "type"},
    {"long_type", [](job_context& c) { c.enqueue(std::string(300, 't')); }, "type"},
    {"nul_queue", [](job_context& c) { c.enqueue("noop", {}, std::string("q\0x", 3)); }, "queue"},
    {"attempts", [](job_context& c) { c.enqueue("noop", {}, "", 0, -1); }, "max_attempts"},
    {"big_payload", [](job_context& c) {
       c.enqueue("noop", {{"blob", std::string(1100 * 1024, 'b')}});
     }, "payload"},
    {"deep_payload", [deep](job_context& c) {
       c.enqueue("noop", nlohmann::json::parse(deep));
     }, "deep"},
    {"nul_payload", [](job_context& c) {
       c.enqueue("noop", {{"s", std::string("a\0b", 3)}});
     }, "payload"},
  };
  std::map<int64_t, std::string> says;
  for (const auto& c : cases) {
    auto add = c.add;
    handlers->add("parent_" + c.name, [add](job_context& ctx) {
      ctx.enqueue("noop"); // a good sibling, never written either
      add(ctx);
      return handler_result::success();
    });
    says[enqueue(db, "parent_" + c.name, "{}", 1)] = c.says;
  }
  auto good = enqueue(db, "good_parent", "{}", 1);
  handlers->add("good_parent", [](job_context& ctx) {
    ctx.enqueue("noop", {{"ok", true}}, "", -5, 3);
    return handler_result::success();
  });
  BOOST_REQUIRE(run_until_finished(*this, handlers, static_cast<int64_t>(cases.size()) + 2));
  for (const auto& [id, word] : says) {
    BOOST_TEST_CONTEXT("job " << id << " " << word) {
      BOOST_TEST(reason(*this, id) == "failed/max_attempts_exceeded");
      auto error = last_error(*this, id);
      BOOST_TEST(error.rfind("invalid child job", 0) == 0u, error);
      BOOST_TEST(error.find(word) != std::string::npos, error);
      BOOST_TEST(error.size() < 300u);
    }
  }
  BOOST_TEST(reason(*this, good) == "succeeded/");
  // Only the good parent's child was written.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE type = 'noop'") == 1);
}

BOOST_AUTO_TEST_CASE(the_node_payload_limit_applies_to_children) {
  auto handlers = std::make_shared<handler_registry>();
  add_builtin_handlers(*handlers);
  handlers->add("parent", [](job_context& ctx) {
    ctx.enqueue("noop", {{"blob", std::string(200, 'b')}});
    return handler_result::success();
  });
  auto id = enqueue(db, "parent", "{}", 1);
  auto cfg = fast_node_config();
  cfg.max_payload_bytes = 100;
  BOOST_REQUIRE(run_until_finished(*this, handlers, 1, cfg));
  BOOST_TEST(last_error(*this, id)
             == "invalid child job #1: payload is 211 bytes, over the limit of 100 bytes"
                " (--max-payload-bytes)");
}

BOOST_AUTO_TEST_SUITE_END()
