#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "messages/protocols.hpp"

/// The observer's HTTP face: a cpp-httplib server on its own thread that
/// turns each request into a typed request to the observer actor.
namespace leasehold {

struct http_config {
  std::string host = "127.0.0.1";
  int port = 8080; // 0: any free port
  /// Bearer token for POST routes; empty disables them.
  std::string token;
  /// Bearer token for reads (either token works); empty leaves reads open.
  /// /livez, /metrics and the static page `/` never need one.
  std::string read_token;
  /// Largest accepted request body (64 KiB; a node sets its
  /// --max-payload-bytes plus 64 KiB).
  size_t body_limit = 64 * 1024;
};

/// Parses "host:port" (port 0 allowed); throws std::invalid_argument.
http_config parse_http_listen(const std::string& text);

class http_bridge {
public:
  /// Binds and starts serving; throws std::runtime_error if it cannot bind.
  http_bridge(caf::actor_system& sys, observer_actor observer, http_config cfg);
  ~http_bridge(); // stops the server and joins its thread
  http_bridge(const http_bridge&) = delete;
  http_bridge& operator=(const http_bridge&) = delete;

  int port() const;

  /// Serves one accepted connection on `fd` (a socket, or one end of a
  /// socketpair) exactly as the listener would, then closes it: for fuzz
  /// targets, which feed raw bytes to the real routes without TCP.
  void serve_connection(int fd);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace leasehold
