#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "messages/protocols.hpp"
#include "persistence/store.hpp"
#include "runtime/input_limits.hpp"

namespace leasehold {

class notify_listener;

/// Settings of the persistence actor.
struct persistence_config {
  std::string database_url;
  std::string worker_id;
  /// This node's registration (register_atom) and the terms its heartbeats
  /// record; the worker id above is the one registered.
  instance_info instance;
  trace_policy trace;
  /// Retry delay of an attempt whose outcome Postgres rejected (it is
  /// recorded as a failure instead): base, doubling per attempt, capped.
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_cap{3600 * 1000};
  /// Bounded lock and statement waits (a node's connections).
  wait_limits waits = wait_limits::none;
  /// Completions per write, at most (1000). Completions that arrive while a
  /// write is under way wait in the mailbox and go out together in the next.
  size_t max_batch = 1000;
  /// How long the first completion of a batch waits for others before the
  /// write (0: none). Slow handlers end a few at a time; without it each
  /// ending costs a statement of its own (see defaults::completion_linger).
  std::chrono::milliseconds completion_linger{0};
  /// How the connection's statements are planned (see statement_plans).
  statement_plans plans = statement_plans::automatic;
  /// Longest wait between reconnect attempts (5s); starts at 100ms.
  std::chrono::milliseconds max_reconnect_backoff{5000};
  /// Bounds on jobs and runs created through observe requests (HTTP).
  input_limits limits;
};

/// The only actor that touches Postgres. It runs detached (its own thread)
/// because libpqxx blocks.
//
//   connected --broken connection--> disconnected (requests fail fast with
//   store_code::unavailable; completions wait) --reconnect--> connected
//   (waiting completions are written, still fenced)
struct persistence_state {
  static inline const char* name = "persistence";
  std::unique_ptr<store> db;
  std::shared_ptr<notify_listener> listener; // shared_ptr: no complete type needed here
  struct pending_completion {
    job_outcome outcome;
    caf::typed_response_promise<written_outcome> promise;
  };
  using pending_list = std::vector<pending_completion>;
  /// Shared with the actor's exit hook, which fails whatever is still here:
  /// a crashed or restarted writer leaves no attempt waiting forever.
  std::shared_ptr<pending_list> pending = std::make_shared<pending_list>();
  /// Outcomes whose rows another session holds locked, back after a backoff.
  std::shared_ptr<pending_list> delayed = std::make_shared<pending_list>();
  std::chrono::milliseconds delay_backoff{1000};
  std::chrono::steady_clock::time_point delayed_until;
  bool flush_scheduled = false;
  bool retry_scheduled = false;
  bool reconnect_scheduled = false;
  std::chrono::milliseconds backoff{100};
};

persistence_actor::behavior_type
persistence_actor_impl(persistence_actor::stateful_pointer<persistence_state> self,
                       persistence_config cfg);

} // namespace leasehold
