// The handler pool starts threads only when tasks wait for one, and never
// more than its maximum.
#include "runtime/handler_pool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/test/unit_test.hpp>

using namespace leasehold;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(handler_pool_threads)

BOOST_AUTO_TEST_CASE(an_unused_pool_has_no_threads) {
  handler_pool pool{1000};
  BOOST_TEST(pool.thread_count() == 0u);
}

BOOST_AUTO_TEST_CASE(threads_grow_with_blocked_tasks_up_to_the_maximum) {
  std::mutex mtx;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> done{0};
  {
    handler_pool pool{3};
    for (int i = 0; i < 5; ++i)
      pool.submit([&] {
        std::unique_lock<std::mutex> lock{mtx};
        cv.wait(lock, [&] { return release; });
        ++done;
      });
    BOOST_TEST(pool.thread_count() == 3u);
    {
      std::lock_guard<std::mutex> guard{mtx};
      release = true;
    }
    cv.notify_all();
  } // the destructor runs what is queued, then joins
  BOOST_TEST(done.load() == 5);
}

BOOST_AUTO_TEST_CASE(an_idle_thread_is_reused) {
  handler_pool pool{8};
  std::atomic<int> done{0};
  for (int i = 0; i < 20; ++i) {
    pool.submit([&] { ++done; });
    while (done.load() < i + 1)
      std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms); // let the thread go back to waiting
  }
  // One thread does it all (two if a loaded machine was slow to park it);
  // a pool started per slot would hold eight.
  BOOST_TEST(pool.thread_count() <= 2u);
}

BOOST_AUTO_TEST_SUITE_END()
