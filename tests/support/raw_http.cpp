#include "tests/support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace leasehold::test {

namespace {

using clock_type = std::chrono::steady_clock;

int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - clock_type::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Case-insensitive search for a header's value in a response head.
std::string header_value(const std::string& head, const std::string& name) {
  std::string lower_head = head, lower_name = name + ":";
  for (auto& c : lower_head)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : lower_name)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto at = lower_head.find("\r\n" + lower_name);
  if (at == std::string::npos)
    return "";
  auto start = at + 2 + lower_name.size();
  auto end = head.find("\r\n", start);
  auto value = head.substr(start, end - start);
  value.erase(0, value.find_first_not_of(' '));
  return value;
}

// The length of the first whole response in `text`, or 0 if incomplete.
size_t whole_response(const std::string& text) {
  auto head_end = text.find("\r\n\r\n");
  if (head_end == std::string::npos)
    return 0;
  auto length = header_value(text.substr(0, head_end), "Content-Length");
  size_t body = length.empty() ? 0 : std::stoul(length);
  auto total = head_end + 4 + body;
  return text.size() >= total ? total : 0;
}

} // namespace

raw_response parse_response(const std::string& text) {
  raw_response r;
  if (text.compare(0, 9, "HTTP/1.1 ") != 0 && text.compare(0, 9, "HTTP/1.0 ") != 0)
    return r;
  r.status = std::atoi(text.c_str() + 9);
  auto head_end = text.find("\r\n\r\n");
  r.head = text.substr(0, head_end);
  if (head_end != std::string::npos) {
    auto length = header_value(r.head, "Content-Length");
    auto body = text.substr(head_end + 4);
    r.body = length.empty() ? body : body.substr(0, std::stoul(length));
  }
  return r;
}

raw_connection::raw_connection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0)
    throw std::runtime_error("socket: " + std::string{std::strerror(errno)});
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    auto why = std::string{std::strerror(errno)};
    ::close(fd_);
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + why);
  }
}

raw_connection::~raw_connection() {
  if (fd_ >= 0)
    ::close(fd_);
}

size_t raw_connection::send(const std::string& bytes, std::chrono::milliseconds stall) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(stall.count())) <= 0 || (p.revents & POLLOUT) == 0)
      break; // the peer stopped reading, or closed
    auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n <= 0)
      break;
    sent += static_cast<size_t>(n);
  }
  return sent;
}

raw_response raw_connection::receive(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  char buf[16384];
  while (whole_response(pending_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0)
      break;
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    pending_.append(buf, static_cast<size_t>(n));
  }
  auto r = parse_response(pending_);
  auto used = whole_response(pending_);
  pending_.erase(0, used == 0 ? pending_.size() : used);
  return r;
}

bool raw_connection::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  char buf[16384];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int left = remaining_ms(deadline);
    if (::poll(&p, 1, left) <= 0)
      return false;
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0)
      return true;
  }
}

void raw_connection::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

raw_response raw_request(int port, const std::string& request,
                         std::chrono::milliseconds timeout) {
  raw_connection c{port};
  c.send(request);
  return c.receive(timeout);
}

} // namespace leasehold::test
