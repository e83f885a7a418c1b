#include "benchmarks/bench_common.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace leasehold::bench {

nlohmann::json latency_summary(std::vector<double> ms) {
  if (ms.empty())
    return nullptr;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  };
  return {{"p50_ms", at(0.5)}, {"p90_ms", at(0.9)}, {"p99_ms", at(0.99)},
          {"max_ms", ms.back()}, {"samples", ms.size()}};
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

void reset_tables(store& db) {
  db.execute("TRUNCATE leasehold.jobs, leasehold.job_runs, leasehold.worker_instances,"
             " leasehold.policy_violations, leasehold.runs RESTART IDENTITY CASCADE");
}

void register_bench_worker(store& db, const std::string& worker_id) {
  instance_info me;
  me.worker_id = worker_id;
  me.worker_type = "bench";
  me.hostname = "bench";
  me.version = "bench";
  db.register_instance(me, std::chrono::milliseconds{me.terms.stale_after_ms},
                       std::chrono::milliseconds{me.terms.stop_timeout_ms});
  db.set_instance_status(worker_id, "RUNNING", {"STARTING"});
}

double postgres_cpu_seconds() {
  double total = 0;
  auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* proc = opendir("/proc");
  if (proc == nullptr)
    return 0;
  while (auto* entry = readdir(proc)) {
    std::string pid = entry->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    std::ifstream stat{"/proc/" + pid + "/stat"};
    std::string line;
    std::getline(stat, line);
    auto open = line.find('(');
    auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos
        || line.substr(open + 1, close - open - 1) != "postgres")
      continue;
    std::istringstream rest{line.substr(close + 2)};
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) { // fields 14, 15: utime, stime
      if (i == 14)
        utime = std::stod(field);
      if (i == 15)
        stime = std::stod(field);
    }
    total += (utime + stime) / ticks;
  }
  closedir(proc);
  return total;
}

} // namespace leasehold::bench
