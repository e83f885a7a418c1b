#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace leasehold {

/// Threads that run job handlers, which may block (sleep, external
/// programs), away from CAF's scheduler threads. One thread per slot of the
/// node's concurrency.
class handler_pool {
public:
  explicit handler_pool(size_t threads);
  ~handler_pool(); // runs what is queued, then joins
  handler_pool(const handler_pool&) = delete;
  handler_pool& operator=(const handler_pool&) = delete;

  void submit(std::function<void()> task);

private:
  void run();

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace leasehold
