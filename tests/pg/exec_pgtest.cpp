// External-command handlers: payload on stdin, exit status as outcome,
// stderr tail as the error, killed when the attempt loses its lease.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

std::string write_script(const std::string& name, const std::string& body) {
  auto path = "/tmp/leasehold-exec-" + std::to_string(getpid()) + "-" + name;
  std::ofstream{path} << "#!/bin/sh\n" << body << "\n";
  chmod(path.c_str(), 0755);
  return path;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(exec_handler, pg_fixture)

BOOST_AUTO_TEST_CASE(a_program_gets_the_payload_and_its_exit_status_decides) {
  auto seen = "/tmp/leasehold-exec-" + std::to_string(getpid()) + "-stdin";
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("ok", make_exec_handler(write_script("ok", "cat > " + seen), 10s));
  handlers->add("bad", make_exec_handler(
    write_script("bad", "cat >/dev/null; echo noise; echo 'line one' >&2;"
                        " echo 'image too large' >&2; exit 3"), 10s));
  auto ok = std::to_string(enqueue(db, "ok", R"({"w":640})"));
  auto bad = std::to_string(enqueue(db, "bad", "{}", 1));
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return count("SELECT count(*) FROM leasehold.all_jobs WHERE finished_at IS NOT NULL") == 2; },
    10s));
  n.stop();
  BOOST_TEST(value("SELECT status FROM leasehold.all_jobs WHERE id = " + ok) == "succeeded");
  std::ifstream in{seen};
  std::string text((std::istreambuf_iterator<char>(in)), {});
  BOOST_TEST(text == R"({"w":640})");
  BOOST_TEST(value("SELECT last_error FROM leasehold.all_jobs WHERE id = " + bad)
             == "exit status 3: line one\nimage too large");
}

BOOST_AUTO_TEST_CASE(a_program_is_killed_when_its_lease_is_lost) {
  auto marker = "/tmp/leasehold-exec-" + std::to_string(getpid()) + "-alive";
  unlink(marker.c_str());
  auto handlers = std::make_shared<handler_registry>();
  // Writes the marker only if it survives 3 seconds.
  handlers->add("slow", make_exec_handler(
    write_script("slow", "sleep 3; touch " + marker), 30s));
  auto id = std::to_string(enqueue(db, "slow"));
  auto cfg = fast_node_config();
  cfg.lease_ttl = 60s;
  node n{cfg, handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "running"; }, 5s));
  std::this_thread::sleep_for(200ms);
  db.execute("UPDATE leasehold.jobs SET locked_by = 'thief' WHERE id = " + id);
  BOOST_REQUIRE(wait_until(
    [&] { return n.stats().supervised_failures["ownership_lost"] == 1; }, 3s));
  std::this_thread::sleep_for(3500ms);
  n.stop();
  BOOST_TEST(access(marker.c_str(), F_OK) != 0); // killed before it finished
}

BOOST_AUTO_TEST_CASE(a_program_past_its_timeout_is_killed_and_the_attempt_fails) {
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("stuck", make_exec_handler(write_script("stuck", "sleep 30"), 300ms));
  auto id = std::to_string(enqueue(db, "stuck", "{}", 1));
  node n{fast_node_config(), handlers};
  n.start();
  BOOST_REQUIRE(wait_until(
    [&] { return value("SELECT status FROM leasehold.all_jobs WHERE id = " + id) == "failed"; }, 5s));
  n.stop();
  BOOST_TEST(value("SELECT last_error FROM leasehold.all_jobs WHERE id = " + id)
             == "timed out: program killed");
}

BOOST_AUTO_TEST_SUITE_END()
