#include "persistence/notify_listener.hpp"

#include <optional>
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

struct receiver : pqxx::notification_receiver {
  notify_listener::callback& on_notify;
  receiver(pqxx::connection_base& conn, const char* channel, notify_listener::callback& cb)
    : pqxx::notification_receiver(conn, channel), on_notify(cb) {}
  void operator()(const std::string& payload, int) override {
    on_notify(payload);
  }
};

} // namespace

notify_listener::notify_listener(std::string database_url, callback on_wake,
                                 callback on_control)
  : url_(std::move(database_url)), on_wake_(std::move(on_wake)),
    on_control_(std::move(on_control)) {
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
      receiver jobs{conn, "leasehold_jobs", on_wake_};
      std::optional<receiver> control;
      if (on_control_)
        control.emplace(conn, "leasehold_control", on_control_);
      backoff_ms = 100;
      // Anything sent while we were away is lost: look again.
      if (on_control_)
        on_control_("");
      on_wake_("");
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
