#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

#include <httplib.h>

#include "runtime/defaults.hpp"

/// An httplib::Server that bounds what one client can cost a node, so that
/// slow, half-open or oversized requests cannot take its threads or memory
/// from everyone else. Debian's cpp-httplib 0.11 (compiled with zlib and
/// brotli) reads a header line, a chunked body or a body of no length
/// whole, inflates compressed bodies without a limit, serves every
/// connection with one of 8 threads and cuts a client off only when a single
/// read waits 5s, so a byte every 4s held a thread forever.
//
//   accepted --queue full--> the oldest waiting connection gets 503, closed
//   accepted --thread free--> waiting for a request (idle_time)
//   waiting --bytes--> reading its head (head_bytes) and body (body_bytes),
//                      all within request_time --> routed, answered
//   answered --keep-alive--> waiting ...
//   any phase past its time --> 408 (or closed, before a first byte)
//   while connections wait for a thread: an idle connection is closed and a
//   request or answer taking over contended_time is cut, so that a slow
//   client cannot keep a thread someone else needs.
namespace leasehold {

/// What one HTTP client may cost. Defaults in defaults::http.
struct http_server_limits {
  /// Request line and headers together (32 KiB); more is a 431.
  size_t head_bytes = defaults::http::head_bytes;
  /// Request body (the bridge: --max-payload-bytes plus 64 KiB); more is 413.
  size_t body_bytes = defaults::http::body_bytes;
  /// One request, from its first byte to its last (10s); slower is a 408.
  std::chrono::milliseconds request_time = defaults::http::request_time;
  /// Wait for a connection's next request (5s), then close it.
  std::chrono::milliseconds idle_time = defaults::http::idle_time;
  /// Sending one answer (10s), then close.
  std::chrono::milliseconds answer_time = defaults::http::answer_time;
  /// While others wait for a thread: longest request or answer (500ms).
  std::chrono::milliseconds contended_time = defaults::http::contended_time;
  /// Threads serving connections, started on demand (64).
  size_t threads = defaults::http::threads;
  /// Accepted connections waiting for a thread (512); one more pushes the
  /// oldest out with a 503.
  size_t waiting = defaults::http::waiting;
  /// Requests served on one connection before it is closed (100).
  size_t requests_per_connection = defaults::http::requests_per_connection;
};

/// Answers with {"error": message, "status": status}: message as one line
/// of valid UTF-8 without control characters, at most 300 bytes.
void send_error(httplib::Response& res, int status, const std::string& message);

class connection_queue;

class http_server : public httplib::Server {
public:
  explicit http_server(http_server_limits limits);
  ~http_server() override;

  /// Serves one accepted connection on `fd` and closes it: what the
  /// listener does for each connection; fuzz targets call it directly.
  void serve_connection(int fd);

  /// Stops listening and ends every connection at its next wait.
  void halt();

  /// After binding: lets the kernel hold up to `n` connections the
  /// listener has not accepted yet. httplib binds with a backlog of 5, so a
  /// burst of connections had some dropped and retried a second later.
  void set_listen_backlog(int n);

  const http_server_limits& limits() const { return limits_; }

private:
  bool process_and_close_socket(socket_t sock) override;
  bool contended() const;

  http_server_limits limits_;
  std::atomic<bool> halted_{false};
  std::atomic<connection_queue*> queue_{nullptr};
};

} // namespace leasehold
