#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

/// Error codes that travel between leasehold's actors (and later nodes).
/// Values are pinned: never renumber them.
namespace leasehold {

/// Why an actor ended: exit reasons the supervisor sees and counts.
enum class exit_code : uint8_t {
  /// Another attempt owns the job now; this attempt must write nothing more.
  ownership_lost = 1,
  /// The node was stopping and the attempt outlived the grace period.
  stopping_timeout = 2,
  /// The attempt's outcome could not be written (its store went away).
  outcome_unwritten = 3,
  /// Another node marked this node's instance STOPPED (it was presumed
  /// dead): the whole node gives up everything it held and exits.
  instance_lost = 4,
};

/// Why a request to the persistence actor failed.
enum class store_code : uint8_t {
  /// Postgres could not be reached; the actor is reconnecting.
  unavailable = 1,
  /// The statement failed for a reason other than connectivity.
  statement_failed = 2,
  /// Postgres rejected a value (bad timestamp, check constraint, ...).
  invalid_input = 3,
  /// A bounded wait ran out (a lock held by another session, a slow
  /// statement); nothing was written, try again later.
  busy = 4,
};

inline constexpr caf::atom_value exit_category = caf::atom("lh_exit");
inline constexpr caf::atom_value store_category = caf::atom("lh_store");

/// Stable text for an exit code, e.g. "ownership_lost".
std::string to_string(exit_code code);

/// Stable text for a store code, e.g. "unavailable".
std::string to_string(store_code code);

inline caf::error make_error(exit_code code) {
  return {static_cast<uint8_t>(code), exit_category};
}

inline caf::error make_error(store_code code, std::string context) {
  return {static_cast<uint8_t>(code), store_category,
          caf::make_message(std::move(context))};
}

/// Short label for any exit reason, used as a counter key: "ownership_lost",
/// "stopping_timeout", "runtime_error", ... Never call with an empty error.
std::string reason_label(const caf::error& reason);

} // namespace leasehold
