#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/cluster_node.hpp"
#include "tests/support/hostile_values.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/raw_http.hpp"

/// A real `leasehold node` process with an HTTP bridge that takes writes,
/// for hostile HTTP tests, and the checks they share.
namespace leasehold::test {

/// The write token the hostile node is started with.
inline constexpr const char* hostile_token = "hostile-token-1f3a";

/// Bodies for POST /jobs, /runs and /runs/{id}/retry: malformed, deep,
/// oversized, invalid UTF-8, NUL, absurd numbers, wrong types.
std::vector<std::string> hostile_bodies();

struct hostile_node : pg_fixture {
  std::unique_ptr<background_process> proc;
  int port = 0;

  /// Starts the node (fault_node_args, --http-token, then `extra`) and
  /// waits for its HTTP port.
  void start(std::vector<std::string> extra = {});
  ~hostile_node();

  /// True while the node process runs.
  bool alive();
  /// Jobs (succeeded ones too) and runs in the database.
  int64_t written();
  /// An answer at all, 2xx-4xx, and for a 4xx a JSON object whose
  /// "error" ("message" for a 409) is one line of printable text.
  void expect_answer(const raw_response& r, const std::string& what);
};

} // namespace leasehold::test
