// latency: enqueue call -> handler start, for single jobs paced at a fixed
// interval (an idle node woken by NOTIFY) and closed-loop (the next enqueue
// as soon as the previous job started).
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "benchmarks/bench_common.hpp"
#include "runtime/node.hpp"

namespace leasehold::bench {

nlohmann::json latency_scenario(const bench_args& a) {
  std::mutex mtx;
  std::condition_variable cv;
  std::map<int64_t, clock_type::time_point> started;
  auto handlers = std::make_shared<handler_registry>();
  handlers->add("stamp", [&](job_context& ctx) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      started[ctx.job_id()] = clock_type::now();
    }
    cv.notify_all();
    return handler_result::success();
  });
  node_config cfg;
  cfg.database_url = a.url;
  cfg.migrate = false;
  cfg.http_listen = "off";
  node n{cfg, handlers};
  n.start();
  std::this_thread::sleep_for(std::chrono::milliseconds{500}); // idle
  store db{a.url};
  new_job job;
  job.type = "stamp";
  auto started_at = [&](int64_t id) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, std::chrono::seconds{10}, [&] { return started.count(id) != 0; });
    return started.count(id) ? started[id] : clock_type::time_point{};
  };

  std::vector<std::pair<int64_t, clock_type::time_point>> paced;
  auto next = clock_type::now();
  for (int i = 0; i < a.samples; ++i) {
    auto t0 = clock_type::now();
    paced.emplace_back(db.enqueue(job), t0);
    std::this_thread::sleep_until(next += a.pace);
  }
  std::vector<double> paced_ms;
  for (const auto& [id, t0] : paced)
    paced_ms.push_back(std::chrono::duration<double, std::milli>(started_at(id) - t0).count());
  std::cerr << "paced: " << paced_ms.size() << " samples\n";

  std::vector<double> closed_ms;
  for (int i = 0; i < a.samples; ++i) {
    auto t0 = clock_type::now();
    auto id = db.enqueue(job);
    closed_ms.push_back(std::chrono::duration<double, std::milli>(started_at(id) - t0).count());
  }
  n.stop();
  return {{"pace_ms", a.pace.count()},
          {"paced", latency_summary(paced_ms)},
          {"closed_loop", latency_summary(closed_ms)}};
}

} // namespace leasehold::bench
