#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "persistence/store.hpp"
#include "runtime/handler_registry.hpp"
#include "runtime/node.hpp"

/// Shared helpers for tests against a real Postgres (LEASEHOLD_TEST_DSN).
namespace leasehold::test {

/// The test database URL; fails the test (never skips) when it is unset.
std::string test_dsn();

/// The port of a postgresql:// URL (5432 when it names none).
uint16_t dsn_port(const std::string& url);

/// A postgresql:// URL with its host and port replaced by 127.0.0.1:`port`,
/// e.g. to reach the database through a fault_proxy.
std::string dsn_with_port(const std::string& url, uint16_t port);

/// Migrated schema with every leasehold table emptied, before each test.
struct pg_fixture {
  pg_fixture();
  store db;

  /// A single value as text ("" for NULL).
  std::string value(const std::string& sql);
  int64_t count(const std::string& sql);
  /// Jobs with status succeeded.
  int64_t succeeded();
  /// Runs a node until `jobs` jobs have succeeded (or `timeout` passed),
  /// then stops it; true when they did.
  bool run_until_succeeded(const node_config& cfg,
                           std::shared_ptr<handler_registry> handlers,
                           int64_t jobs, std::chrono::milliseconds timeout);
};

/// A registry with the built-in handlers (noop, sleep, fail).
std::shared_ptr<handler_registry> builtin_handlers();

/// Node settings that make tests fast: 100ms heartbeats and polls, 1s TTL,
/// 20ms retry base, 5s stop timeout, no migration (the fixture did it).
node_config fast_node_config();

/// Polls `done` every 20ms until it is true or `timeout` passes.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout);

/// Registers `worker_id` as a RUNNING instance, as a node does: only a
/// registered worker id may claim, renew and complete.
void register_worker(store& db, const std::string& worker_id,
                     instance_terms terms = {});

/// The text of persistence/sql/`name`.
std::string read_sql(const std::string& name);

/// Runs scripts/pg-local.sh `what` (start, stop, restart) on the test
/// cluster; throws unless it succeeds.
void pg_local(const std::string& what);

/// Enqueues one job through the store and returns its id.
int64_t enqueue(store& db, const std::string& type,
                const std::string& payload = "{}", int32_t max_attempts = 25);

} // namespace leasehold::test
