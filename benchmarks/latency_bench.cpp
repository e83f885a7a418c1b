// latency: enqueue call -> handler start, for single jobs paced at a fixed
// interval (an idle node woken by NOTIFY) and closed-loop (the next enqueue
// as soon as the previous job started). Also reported: how long the enqueue
// call itself took (its commit waits for the WAL flush) and the pickup
// after it returned, so a miss can be placed.
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
  }, handler_mode::non_blocking); // records a time and returns: never blocks
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

  auto ms = [](clock_type::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  struct sample {
    int64_t id;
    clock_type::time_point called, returned;
  };
  // Summaries of: call -> handler start, the call itself, return -> start.
  auto summarise = [&](const std::vector<sample>& samples) {
    std::vector<double> total, call, after;
    for (const auto& s : samples) {
      auto start = started_at(s.id);
      total.push_back(ms(start - s.called));
      call.push_back(ms(s.returned - s.called));
      after.push_back(ms(start - s.returned));
    }
    auto out = latency_summary(total);
    auto after_call = latency_summary(after);
    out["enqueue_call_p50_ms"] = latency_summary(call)["p50_ms"];
    out["after_enqueue_p50_ms"] = after_call["p50_ms"];
    out["after_enqueue_p99_ms"] = after_call["p99_ms"];
    return out;
  };

  std::vector<sample> paced;
  auto next = clock_type::now();
  for (int i = 0; i < a.samples; ++i) {
    auto t0 = clock_type::now();
    auto id = db.enqueue(job);
    paced.push_back({id, t0, clock_type::now()});
    std::this_thread::sleep_until(next += a.pace);
  }
  auto paced_summary = summarise(paced);
  std::cerr << "paced: " << paced.size() << " samples\n";

  std::vector<sample> closed;
  for (int i = 0; i < a.samples; ++i) {
    auto t0 = clock_type::now();
    auto id = db.enqueue(job);
    closed.push_back({id, t0, clock_type::now()});
    started_at(id);
  }
  n.stop();
  return {{"pace_ms", a.pace.count()},
          {"paced", paced_summary},
          {"closed_loop", summarise(closed)}};
}

} // namespace leasehold::bench
