#include "runtime/handler_pool.hpp"

#include <pthread.h>

namespace leasehold {

handler_pool::handler_pool(size_t max_threads) : max_threads_(max_threads) {}

handler_pool::~handler_pool() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void handler_pool::submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    tasks_.push_back(std::move(task));
    // Every waiting task needs a thread: start one unless enough are idle.
    if (!stopping_ && idle_ < tasks_.size() && threads_.size() < max_threads_)
      threads_.emplace_back([this] { run(); });
  }
  cv_.notify_one();
}

size_t handler_pool::thread_count() {
  std::lock_guard<std::mutex> guard{mtx_};
  return threads_.size();
}

size_t handler_pool::busy() {
  std::lock_guard<std::mutex> guard{mtx_};
  return threads_.size() - idle_;
}

void handler_pool::run() {
  // Named so that top, perf and tests can tell handler threads apart.
  pthread_setname_np(pthread_self(), "lh.handler");
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock{mtx_};
      ++idle_;
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty())
        return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

} // namespace leasehold
