#include "persistence/notify_listener.hpp"
#include "persistence/store.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <pqxx/pqxx>

namespace leasehold {

namespace {

constexpr const char* notify_channel = "leasehold_jobs";

struct receiver : pqxx::notification_receiver {
  notify_listener::callback& on_wake;
  receiver(pqxx::connection_base& conn, notify_listener::callback& cb)
    : pqxx::notification_receiver(conn, notify_channel), on_wake(cb) {}
  void operator()(const std::string& payload, int) override {
    on_wake(payload);
  }
};

} // namespace

notify_listener::notify_listener(std::string database_url, callback on_wake)
  : url_(std::move(database_url)), on_wake_(std::move(on_wake)) {
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { run(); });
}

notify_listener::~notify_listener() {
  stopping_ = true;
  uint64_t one = 1;
  [[maybe_unused]] auto n = write(stop_fd_, &one, sizeof(one));
  thread_.join();
  close(stop_fd_);
}

bool notify_listener::wait_readable(int fd, int timeout_ms) {
  pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
  return !stopping_;
}

void notify_listener::run() {
  int backoff_ms = 100;
  while (!stopping_) {
    try {
      pqxx::connection conn{with_keepalives(url_)};
      receiver r{conn, on_wake_};
      backoff_ms = 100;
      on_wake_(""); // anything sent while we were away is lost: look again
      while (wait_readable(conn.sock(), 60000))
        conn.get_notifs();
    } catch (const std::exception&) {
      // Server down or restarting: try again with backoff, quietly; the
      // persistence actor reports connectivity problems.
      if (!wait_readable(-1, backoff_ms))
        return;
      backoff_ms = std::min(backoff_ms * 2, 5000);
    }
  }
}

} // namespace leasehold
