#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

/// Listens on the `leasehold_jobs` channel on its own connection and thread,
/// calling `on_wake(queue)` for each notification, and (if given) on
/// `leasehold_control`, calling `on_control(queue)` when a queue is paused or
/// resumed. After every (re)connect it calls both with "" because
/// notifications sent while disconnected are lost and the caller must look
/// for itself.
namespace leasehold {

class notify_listener {
public:
  using callback = std::function<void(const std::string& queue)>;

  notify_listener(std::string database_url, callback on_wake, callback on_control = {});
  ~notify_listener(); // stops and joins the thread
  notify_listener(const notify_listener&) = delete;
  notify_listener& operator=(const notify_listener&) = delete;

private:
  void run();
  bool wait_readable(int fd, int timeout_ms); // false when asked to stop

  std::string url_;
  callback on_wake_;
  callback on_control_;
  int stop_fd_ = -1; // eventfd: writing to it wakes and stops the thread
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace leasehold
