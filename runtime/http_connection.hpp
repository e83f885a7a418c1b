#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include <httplib.h>

#include "runtime/http_server.hpp"

/// One client connection as httplib reads and writes it, within
/// http_server_limits: it counts the bytes of each request's head and body
/// and the time each request and answer takes, and refuses (so that
/// httplib's read fails) the first byte over a limit.
namespace leasehold {

class http_connection final : public httplib::Stream {
public:
  using clock_type = std::chrono::steady_clock;

  /// `contended` says whether connections wait for a thread; `halted`
  /// whether the server stops.
  http_connection(int fd, const http_server_limits& limits,
                  std::function<bool()> contended, const std::atomic<bool>& halted);

  /// Waits for the first byte of the next request (idle_time; at once
  /// when others wait for a thread) and starts counting it. False when the
  /// connection ended, stayed silent, or should make way.
  bool await_request();

  /// True once this request broke a limit; refusal() says how to answer.
  bool refused() const { return status_ != 0; }
  std::pair<int, std::string> refusal() const { return {status_, message_}; }

  /// True once any byte of an answer went out for this request.
  bool answered() const { return answering_; }

  /// The connection ends after this request's answer.
  void close_after_answer() { close_ = true; }
  /// True when close_after_answer() was called: input may be left unread.
  bool closing() const { return close_; }
  bool must_close() const { return close_ || refused() || failed_; }

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override;

private:
  // Reads more bytes into the buffer: 1, 0 at the end, -1 on failure.
  int fill();
  // Counts n delivered bytes against the head and body limits.
  bool count(const char* p, size_t n);
  bool refuse(int status, std::string message);
  bool out_of_time(clock_type::time_point started, std::chrono::milliseconds limit) const;

  int fd_;
  const http_server_limits& limits_;
  std::function<bool()> contended_;
  const std::atomic<bool>& halted_;
  char buf_[4096];
  size_t pos_ = 0, len_ = 0;
  clock_type::time_point request_started_, answer_started_;
  size_t head_read_ = 0, body_read_ = 0, line_len_ = 0;
  bool in_head_ = true, first_line_ = true, prev_cr_ = false;
  bool answering_ = false, close_ = false, failed_ = false;
  int status_ = 0;
  std::string message_;
};

} // namespace leasehold
