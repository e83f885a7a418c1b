#include "runtime/handler_pool.hpp"

#include <pthread.h>

namespace leasehold {

handler_pool::handler_pool(size_t threads) {
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

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
  }
  cv_.notify_one();
}

void handler_pool::run() {
  // Named so that top, perf and tests can tell handler threads apart.
  pthread_setname_np(pthread_self(), "lh.handler");
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty())
        return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

} // namespace leasehold
