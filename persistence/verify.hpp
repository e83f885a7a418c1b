#pragma once

#include <cstdint>
#include <string>
#include <vector>

/// `leasehold verify`: the invariants leasehold promises, checked against
/// the data itself (persistence/sql/verify_*.sql).
namespace leasehold {

struct verify_options {
  /// Only attempts, successes and runs that finished (runs: were created)
  /// at or after this time; current leases are always checked.
  std::string since = "-infinity";
  /// Slack on top of an owner's own lease TTL before a running job counts
  /// as stuck, and after a revocation before its jobs must have moved.
  int64_t grace_ms = 30000;
  /// Successes of jobs created at or after this time must carry a trace id.
  std::string trace_cutoff = "-infinity";
  /// The lease TTL of owners that recorded none (rows from before
  /// migration 015).
  int64_t default_lease_ttl_ms = 30000;
  /// Rows reported per violated check.
  int64_t limit = 20;
};

/// One invariant and what broke it.
struct invariant_result {
  std::string name;
  std::string description;
  int64_t violations = 0;
  /// Up to `limit` of the rows involved, each a JSON object as text.
  std::vector<std::string> rows;
};

/// Every invariant, in the order verify reports them.
struct invariant {
  const char* name;
  const char* description;
};
const std::vector<invariant>& invariants();

} // namespace leasehold
