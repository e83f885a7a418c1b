#include "tests/support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace leasehold::test {

namespace {

using clock_type = std::chrono::steady_clock;

// Bytes read ahead per direction before the proxy stops reading: the
// sender then blocks as on a slow link, and a delay cannot grow without end.
constexpr size_t max_queued = 1 << 20;

struct command_t {
  enum kind_t { pass, blackhole, reset, delay } kind;
  std::chrono::milliseconds ms{0};
};

// Bytes on their way from one socket to the other, each chunk with the time
// it may leave (now, or later under a delay).
struct direction {
  std::deque<std::pair<clock_type::time_point, std::string>> chunks;
  size_t offset = 0; // of the first chunk, already written
  size_t queued = 0;
  bool eof = false;  // the source closed its side
  bool shut = false; // ...and that was passed on
  bool due(clock_type::time_point now) const {
    return !chunks.empty() && chunks.front().first <= now;
  }
};

struct link {
  int client = -1;
  int upstream = -1; // -1 until connected (accepted during a blackhole)
  direction up;      // client -> upstream
  direction down;    // upstream -> client
  bool closed = false;
};

void fail(const std::string& what) {
  throw std::runtime_error("fault_proxy: " + what + ": " + std::strerror(errno));
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// SO_LINGER 0: close() sends an RST instead of a FIN.
void close_with_reset(int fd) {
  if (fd < 0)
    return;
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

} // namespace

struct fault_proxy::impl {
  sockaddr_storage target{};
  socklen_t target_len = 0;
  int listener = -1;
  int wake[2] = {-1, -1};
  uint16_t port = 0;
  std::thread thread;
  std::atomic<int> open{0};
  std::atomic<int64_t> accepted{0};

  std::mutex mutex;
  std::condition_variable applied_cv;
  std::deque<command_t> commands;
  uint64_t submitted = 0;
  uint64_t applied = 0;
  bool stopping = false;

  // The proxy thread's own state.
  bool blackholed = false;
  std::chrono::milliseconds delay{0};
  std::vector<std::unique_ptr<link>> links;

  void submit(command_t c) {
    std::unique_lock<std::mutex> lock{mutex};
    commands.push_back(c);
    auto mine = ++submitted;
    char b = 1;
    [[maybe_unused]] auto n = write(wake[1], &b, 1);
    applied_cv.wait(lock, [&] { return applied >= mine; });
  }

  void apply_commands() {
    std::deque<command_t> todo;
    {
      std::lock_guard<std::mutex> lock{mutex};
      todo.swap(commands);
    }
    for (const auto& c : todo) {
      switch (c.kind) {
      case command_t::pass: blackholed = false; delay = c.ms; break;
      case command_t::delay: blackholed = false; delay = c.ms; break;
      case command_t::blackhole: blackholed = true; break;
      case command_t::reset:
        for (auto& l : links)
          abort_link(*l);
        blackholed = false;
        break;
      }
    }
    open = static_cast<int>(std::count_if(links.begin(), links.end(),
                                           [](const auto& l) { return !l->closed; }));
    std::lock_guard<std::mutex> lock{mutex};
    applied += todo.size();
    applied_cv.notify_all();
  }

  void abort_link(link& l) {
    close_with_reset(l.client);
    close_with_reset(l.upstream);
    l.closed = true;
  }

  void finish_link(link& l) {
    close(l.client);
    if (l.upstream >= 0)
      close(l.upstream);
    l.closed = true;
  }

  // Blocking is fine: the target is on loopback. A refused connection is
  // passed on as an RST, the nearest a proxy gets to a refusal.
  void connect_upstream(link& l) {
    int fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&target), target_len) != 0) {
      if (fd >= 0)
        close(fd);
      abort_link(l);
      return;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    if (target.ss_family == AF_INET)
      set_nodelay(fd);
    l.upstream = fd;
  }

  void accept_all() {
    for (;;) {
      int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return;
      set_nodelay(fd);
      auto l = std::make_unique<link>();
      l->client = fd;
      ++accepted;
      if (!blackholed)
        connect_upstream(*l);
      links.push_back(std::move(l));
    }
  }

  // False when the link broke (an RST or error on one side, passed on).
  bool read_into(link& l, int from, direction& d) {
    char buf[65536];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n > 0) {
      d.chunks.emplace_back(clock_type::now() + delay, std::string(buf, static_cast<size_t>(n)));
      d.queued += static_cast<size_t>(n);
    } else if (n == 0) {
      d.eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      abort_link(l);
      return false;
    }
    return true;
  }

  bool flush(link& l, direction& d, int to) {
    auto now = clock_type::now();
    while (d.due(now)) {
      auto& bytes = d.chunks.front().second;
      ssize_t n = send(to, bytes.data() + d.offset, bytes.size() - d.offset, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
          return true;
        abort_link(l);
        return false;
      }
      d.offset += static_cast<size_t>(n);
      d.queued -= static_cast<size_t>(n);
      if (d.offset == bytes.size()) {
        d.chunks.pop_front();
        d.offset = 0;
      }
    }
    if (d.eof && d.chunks.empty() && !d.shut) {
      shutdown(to, SHUT_WR);
      d.shut = true;
    }
    return true;
  }

  short events(const direction& in, const direction& out, clock_type::time_point now) const {
    short e = 0;
    if (!in.eof && in.queued < max_queued)
      e |= POLLIN;
    if (out.due(now))
      e |= POLLOUT;
    return e;
  }

  void run() {
    std::vector<pollfd> fds;
    for (;;) {
      apply_commands();
      {
        std::lock_guard<std::mutex> lock{mutex};
        if (stopping)
          break;
      }
      auto now = clock_type::now();
      fds.assign({{wake[0], POLLIN, 0}, {listener, POLLIN, 0}});
      int timeout = -1;
      for (auto& l : links) {
        if (!blackholed && l->upstream < 0 && !l->closed)
          connect_upstream(*l);
        // A blackholed link is not polled at all: a hangup would wake poll
        // at once, again and again.
        bool live = !blackholed && !l->closed;
        short ce = live ? events(l->up, l->down, now) : 0;
        short ue = live ? events(l->down, l->up, now) : 0;
        fds.push_back({ce ? l->client : -1, ce, 0});
        fds.push_back({ue ? l->upstream : -1, ue, 0});
        for (const auto* d : {&l->up, &l->down})
          if (live && !d->chunks.empty() && !d->due(now)) {
            auto wait = std::chrono::ceil<std::chrono::milliseconds>(d->chunks.front().first - now);
            timeout = timeout < 0 ? int(wait.count()) : std::min(timeout, int(wait.count()));
          }
      }
      if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
        fail("poll");
      if (fds[0].revents) {
        char buf[64];
        while (read(wake[0], buf, sizeof(buf)) > 0) {
        }
      }
      for (size_t i = 0; i < links.size(); ++i) {
        auto& l = *links[i];
        auto c = fds[2 + 2 * i].revents;
        auto u = fds[3 + 2 * i].revents;
        if (l.closed || blackholed)
          continue;
        if ((c & (POLLIN | POLLHUP | POLLERR)) && !read_into(l, l.client, l.up))
          continue;
        if ((u & (POLLIN | POLLHUP | POLLERR)) && !read_into(l, l.upstream, l.down))
          continue;
        if (flush(l, l.up, l.upstream) && flush(l, l.down, l.client)
            && l.up.shut && l.down.shut)
          finish_link(l);
      }
      links.erase(std::remove_if(links.begin(), links.end(),
                                 [](const auto& l) { return l->closed; }),
                  links.end());
      if (fds[1].revents & POLLIN)
        accept_all();
      open = static_cast<int>(links.size());
    }
    for (auto& l : links)
      finish_link(*l);
  }
};

fault_proxy::fault_proxy(uint16_t target_port, const std::string& target_host,
                         uint16_t listen_port)
  : impl_(std::make_unique<impl>()) {
  auto& p = *impl_;
  if (!target_host.empty() && target_host[0] == '/') {
    // As libpq reads a host: a directory holding Postgres's unix socket.
    auto& un = reinterpret_cast<sockaddr_un&>(p.target);
    auto path = target_host + "/.s.PGSQL." + std::to_string(target_port);
    if (path.size() >= sizeof(un.sun_path))
      throw std::runtime_error("fault_proxy: socket path too long: " + path);
    un.sun_family = AF_UNIX;
    std::strcpy(un.sun_path, path.c_str());
    p.target_len = sizeof(sockaddr_un);
  } else {
    auto& in = reinterpret_cast<sockaddr_in&>(p.target);
    in.sin_family = AF_INET;
    in.sin_port = htons(target_port);
    auto host = target_host == "localhost" ? std::string{"127.0.0.1"} : target_host;
    if (inet_pton(AF_INET, host.c_str(), &in.sin_addr) != 1)
      throw std::runtime_error("fault_proxy: target must be an IPv4 address or a socket"
                               " directory: " + target_host);
    p.target_len = sizeof(sockaddr_in);
  }
  if (pipe2(p.wake, O_NONBLOCK | O_CLOEXEC) != 0)
    fail("pipe");
  p.listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(p.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(listen_port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); // loopback only
  socklen_t len = sizeof(addr);
  if (bind(p.listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || listen(p.listener, 128) != 0
      || getsockname(p.listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    fail("listen on 127.0.0.1:" + std::to_string(listen_port));
  p.port = ntohs(addr.sin_port);
  p.thread = std::thread([&p] { p.run(); });
}

fault_proxy::~fault_proxy() {
  auto& p = *impl_;
  {
    std::lock_guard<std::mutex> lock{p.mutex};
    p.stopping = true;
  }
  char b = 1;
  [[maybe_unused]] auto n = write(p.wake[1], &b, 1);
  p.thread.join();
  close(p.listener);
  close(p.wake[0]);
  close(p.wake[1]);
}

uint16_t fault_proxy::port() const { return impl_->port; }
void fault_proxy::pass() { impl_->submit({command_t::pass}); }
void fault_proxy::blackhole() { impl_->submit({command_t::blackhole}); }
void fault_proxy::reset() { impl_->submit({command_t::reset}); }
void fault_proxy::delay(std::chrono::milliseconds ms) {
  impl_->submit({command_t::delay, ms});
}
int fault_proxy::connections() const { return impl_->open; }
int64_t fault_proxy::accepted() const { return impl_->accepted; }

std::string fault_proxy::command(const std::string& line) {
  std::istringstream in{line};
  std::string word, extra;
  in >> word;
  if (word == "delay") {
    long ms = -1;
    if (in >> ms && ms >= 0 && !(in >> extra)) {
      delay(std::chrono::milliseconds{ms});
      return "ok";
    }
    return "error: delay needs a number of milliseconds";
  }
  if (in >> extra)
    return "error: unexpected '" + extra + "'";
  if (word == "pass")
    pass();
  else if (word == "blackhole")
    blackhole();
  else if (word == "reset")
    reset();
  else
    return "error: unknown command '" + word + "' (pass, blackhole, reset, delay MS)";
  return "ok";
}

} // namespace leasehold::test
