#include "runtime/http_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace leasehold {

namespace {

// Waits are cut into slices so that a halt or a queue is seen quickly.
constexpr auto slice = std::chrono::milliseconds{100};

int poll_for(int fd, short events, std::chrono::milliseconds wait) {
  pollfd p{fd, events, 0};
  int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(wait.count(), 0)));
  if (n > 0 && (p.revents & (events | POLLHUP | POLLERR)) == 0)
    return 0;
  return n;
}

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

void address_of(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    port = ntohs(a.sin6_port);
  } else {
    port = 0; // a socketpair (fuzzing)
  }
  ip = text;
}

} // namespace

http_connection::http_connection(int fd, const http_server_limits& limits,
                                 std::function<bool()> contended,
                                 const std::atomic<bool>& halted)
  : fd_(fd), limits_(limits), contended_(std::move(contended)), halted_(halted) {}

bool http_connection::await_request() {
  head_read_ = body_read_ = line_len_ = 0;
  in_head_ = first_line_ = true;
  prev_cr_ = answering_ = false;
  status_ = 0;
  message_.clear();
  if (close_ || failed_)
    return false;
  auto deadline = clock_type::now() + limits_.idle_time;
  while (pos_ == len_) {
    if (halted_)
      return false;
    if (poll_for(fd_, POLLIN, std::chrono::milliseconds{0}) == 0) {
      // Nothing sent yet: an idle connection gives way to waiting ones.
      auto now = clock_type::now();
      if (contended_() || now >= deadline)
        return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      poll_for(fd_, POLLIN, std::min(left, slice));
      continue;
    }
    auto n = ::recv(fd_, buf_, sizeof buf_, MSG_DONTWAIT);
    if (n > 0) {
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      return false;
    }
  }
  request_started_ = clock_type::now();
  return true;
}

bool http_connection::out_of_time(clock_type::time_point started,
                                  std::chrono::milliseconds limit) const {
  auto spent = clock_type::now() - started;
  return spent >= limit || (spent >= limits_.contended_time && contended_());
}

int http_connection::fill() {
  for (;;) {
    if (halted_) {
      failed_ = true;
      return -1;
    }
    if (out_of_time(request_started_, limits_.request_time)) {
      refuse(408, "the request did not arrive in time (" + seconds_text(limits_.request_time)
                    + ", or " + seconds_text(limits_.contended_time)
                    + " while others wait)");
      return -1;
    }
    if (poll_for(fd_, POLLIN, slice) == 0)
      continue;
    auto n = ::recv(fd_, buf_, sizeof buf_, MSG_DONTWAIT);
    if (n > 0) {
      pos_ = 0;
      len_ = static_cast<size_t>(n);
      return 1;
    }
    if (n == 0)
      return 0;
    if (errno != EAGAIN && errno != EINTR) {
      failed_ = true;
      return -1;
    }
  }
}

bool http_connection::refuse(int status, std::string message) {
  if (status_ == 0) {
    status_ = status;
    message_ = std::move(message);
  }
  return false;
}

// httplib reads the head a byte at a time and ends it at the first line
// that is exactly CRLF after the request line; so does this count.
bool http_connection::count(const char* p, size_t n) {
  size_t i = 0;
  for (; i < n && in_head_; ++i) {
    if (++head_read_ > limits_.head_bytes)
      return refuse(431, "request line and headers over " + std::to_string(limits_.head_bytes)
                           + " bytes");
    if (p[i] == '\n') {
      if (!first_line_ && line_len_ == 1 && prev_cr_)
        in_head_ = false;
      first_line_ = false;
      line_len_ = 0;
      prev_cr_ = false;
    } else {
      ++line_len_;
      prev_cr_ = p[i] == '\r';
    }
  }
  body_read_ += n - i;
  if (body_read_ > limits_.body_bytes)
    return refuse(413, "request body over " + std::to_string(limits_.body_bytes) + " bytes");
  return true;
}

ssize_t http_connection::read(char* ptr, size_t size) {
  if (refused() || failed_)
    return -1;
  if (pos_ == len_) {
    int got = fill();
    if (got <= 0)
      return got;
  }
  auto n = std::min(size, len_ - pos_);
  if (!count(buf_ + pos_, n))
    return -1;
  std::memcpy(ptr, buf_ + pos_, n);
  pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t http_connection::write(const char* ptr, size_t size) {
  if (failed_)
    return -1;
  if (!answering_) {
    answering_ = true;
    answer_started_ = clock_type::now();
  }
  size_t sent = 0;
  while (sent < size) {
    auto n = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      failed_ = true;
      return -1;
    }
    // A client that does not read its answer is dropped after answer_time.
    if (halted_ || out_of_time(answer_started_, limits_.answer_time)) {
      failed_ = true;
      return -1;
    }
    poll_for(fd_, POLLOUT, slice);
  }
  return static_cast<ssize_t>(size);
}

bool http_connection::is_readable() const {
  return pos_ < len_ || poll_for(fd_, POLLIN, std::chrono::milliseconds{0}) > 0;
}

bool http_connection::is_writable() const {
  return !failed_;
}

void http_connection::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    addr.ss_family = AF_UNSPEC;
  address_of(addr, ip, port);
}

void http_connection::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    addr.ss_family = AF_UNSPEC;
  address_of(addr, ip, port);
}

// httplib answers 500 to a socket at or past FD_SETSIZE, which its select()
// cannot watch; this stream polls, so it never shows httplib such a number.
socket_t http_connection::socket() const {
  return fd_ < FD_SETSIZE ? fd_ : INVALID_SOCKET;
}

} // namespace leasehold
