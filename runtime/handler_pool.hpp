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
/// programs), away from CAF's scheduler threads. Up to one thread per slot
/// of the node's concurrency, started when a task finds no idle thread: a
/// node with many slots but few blocking jobs keeps few threads.
class handler_pool {
public:
  explicit handler_pool(size_t max_threads);
  ~handler_pool(); // runs what is queued, then joins
  handler_pool(const handler_pool&) = delete;
  handler_pool& operator=(const handler_pool&) = delete;

  void submit(std::function<void()> task);

  /// Threads started so far.
  size_t thread_count();
  /// Threads running a task now, and the most it may start.
  size_t busy();
  size_t capacity() const { return max_threads_; }

private:
  void run();

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  size_t max_threads_;
  size_t idle_ = 0; // threads waiting for a task
  std::vector<std::thread> threads_;
};

} // namespace leasehold
