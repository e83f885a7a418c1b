#include "tests/support/pg_fixture.hpp"

#include "tests/support/process.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace leasehold::test {

std::string test_dsn() {
  const char* dsn = std::getenv("LEASEHOLD_TEST_DSN");
  if (dsn == nullptr || *dsn == '\0')
    throw std::runtime_error(
      "LEASEHOLD_TEST_DSN is not set: run the tests through scripts/test.sh");
  return dsn;
}

namespace {

// Where the host[:port] of a URL starts and ends (after any user@).
std::pair<size_t, size_t> host_port_span(const std::string& url) {
  auto scheme = url.find("://");
  if (url.rfind("postgres", 0) != 0 || scheme == std::string::npos)
    throw std::invalid_argument("not a postgresql:// URL: " + url);
  auto begin = scheme + 3;
  auto end = std::min(url.find_first_of("/?", begin), url.size());
  auto at = url.rfind('@', end);
  if (at != std::string::npos && at >= begin)
    begin = at + 1;
  return {begin, end};
}

} // namespace

uint16_t dsn_port(const std::string& url) {
  auto [begin, end] = host_port_span(url);
  auto colon = url.rfind(':', end);
  if (colon == std::string::npos || colon < begin || url.find(']', colon) < end)
    return 5432;
  return static_cast<uint16_t>(std::stoi(url.substr(colon + 1, end - colon - 1)));
}

std::string dsn_with_port(const std::string& url, uint16_t port) {
  auto [begin, end] = host_port_span(url);
  return url.substr(0, begin) + "127.0.0.1:" + std::to_string(port) + url.substr(end);
}

pg_fixture::pg_fixture() : db(test_dsn()) {
  db.migrate();
  db.execute("TRUNCATE leasehold.jobs, leasehold.job_runs,"
             " leasehold.policy_violations, leasehold.worker_instances, leasehold.runs,"
             " leasehold.unique_keys, leasehold.schedules, leasehold.queues"
             " RESTART IDENTITY CASCADE");
}

std::string pg_fixture::value(const std::string& sql) {
  return db.query_value(sql).value_or("");
}

int64_t pg_fixture::count(const std::string& sql) {
  return std::stoll(db.query_value(sql).value_or("0"));
}

int64_t pg_fixture::succeeded() {
  return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'succeeded'");
}

bool pg_fixture::run_until_succeeded(const node_config& cfg,
                                     std::shared_ptr<handler_registry> handlers,
                                     int64_t jobs, std::chrono::milliseconds timeout) {
  node n{cfg, std::move(handlers)};
  n.start();
  bool done = wait_until([&] { return succeeded() == jobs; }, timeout);
  n.stop();
  return done;
}

std::shared_ptr<handler_registry> builtin_handlers() {
  auto handlers = std::make_shared<handler_registry>();
  add_builtin_handlers(*handlers);
  return handlers;
}

node_config fast_node_config() {
  using namespace std::chrono_literals;
  node_config cfg;
  cfg.database_url = test_dsn();
  cfg.worker_base = "test";
  cfg.concurrency = 8;
  cfg.heartbeat_interval = 100ms;
  cfg.lease_ttl = 1s;
  cfg.poll_interval = 100ms;
  cfg.stop_timeout = 5s;
  cfg.reap_interval = 200ms;
  cfg.http_listen = "127.0.0.1:0";
  cfg.retry_base = 20ms;
  cfg.retry_cap = 1s;
  cfg.migrate = false;
  return cfg;
}

bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return done();
}

void register_worker(store& db, const std::string& worker_id, instance_terms terms) {
  instance_info me;
  me.worker_id = worker_id;
  me.worker_type = "test";
  me.hostname = "test-host";
  me.version = "test";
  me.terms = terms;
  db.register_instance(me, std::chrono::milliseconds{terms.stale_after_ms},
                       std::chrono::milliseconds{terms.stop_timeout_ms});
  db.set_instance_status(worker_id, "RUNNING", {"STARTING"});
}

std::string read_sql(const std::string& name) {
  std::ifstream in{std::string{LEASEHOLD_SOURCE_DIR} + "/persistence/sql/" + name};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void pg_local(const std::string& what) {
  const char* dir = std::getenv("LEASEHOLD_TEST_PG_DIR");
  const char* port = std::getenv("LEASEHOLD_TEST_PG_PORT");
  if (dir == nullptr || port == nullptr)
    throw std::runtime_error("LEASEHOLD_TEST_PG_DIR/PORT unset: use scripts/test.sh");
  auto r = run({"/bin/bash", std::string{LEASEHOLD_SOURCE_DIR} + "/scripts/pg-local.sh", what},
               {{"LEASEHOLD_PG_DIR", dir}, {"LEASEHOLD_PG_PORT", port}});
  if (r.exit_code != 0)
    throw std::runtime_error("pg-local.sh " + what + " failed: " + r.err + r.out);
}

int64_t enqueue(store& db, const std::string& type, const std::string& payload,
                int32_t max_attempts) {
  new_job job;
  job.type = type;
  job.payload = payload;
  job.max_attempts = max_attempts;
  return db.enqueue(job);
}

} // namespace leasehold::test
