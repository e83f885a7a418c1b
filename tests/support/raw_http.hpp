#pragma once

#include <chrono>
#include <cstddef>
#include <string>

/// A raw TCP client for hostile HTTP tests: it sends exactly the bytes it
/// is given (malformed, oversized, slow, never finished), which no HTTP
/// client library would.
namespace leasehold::test {

/// One HTTP response as read off the wire; status 0 when none arrived.
struct raw_response {
  int status = 0;
  std::string head; // status line and headers
  std::string body;
};

/// Parses the first response in `text` (status 0 if there is none).
raw_response parse_response(const std::string& text);

class raw_connection {
public:
  /// Connects to 127.0.0.1:`port`; throws std::runtime_error if it cannot.
  explicit raw_connection(int port);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  /// Sends `bytes` until all are sent, the peer stops reading for `stall`
  /// or closes; returns how many bytes the kernel took.
  size_t send(const std::string& bytes,
              std::chrono::milliseconds stall = std::chrono::seconds{2});

  /// Reads until a whole response (by Content-Length) arrived, the peer
  /// closed, or `timeout` passed.
  raw_response receive(std::chrono::milliseconds timeout = std::chrono::seconds{5});

  /// True once the peer closed the connection (read returns 0 or an error);
  /// waits up to `timeout`, discarding what arrives.
  bool closed_by_peer(std::chrono::milliseconds timeout);

  /// Half-closes: the server sees the end of the request stream.
  void shutdown_write();

  int fd() const { return fd_; }

private:
  int fd_ = -1;
  std::string pending_;
};

/// Sends `request` on a fresh connection and returns the first response.
raw_response raw_request(int port, const std::string& request,
                         std::chrono::milliseconds timeout = std::chrono::seconds{5});

} // namespace leasehold::test
