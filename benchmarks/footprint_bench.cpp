// footprint: resident memory of a real `leasehold node` process, idle and
// with M long jobs in flight.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "benchmarks/bench_common.hpp"

extern char** environ;

namespace leasehold::bench {

namespace {

int64_t rss_kib(pid_t pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      int64_t kib = 0;
      status >> kib;
      return kib;
    }
    status.ignore(4096, '\n');
  }
  return -1;
}

} // namespace

nlohmann::json footprint_scenario(const bench_args& a) {
  if (a.leasehold_bin.empty())
    throw std::runtime_error("footprint needs --leasehold-bin");
  auto m = a.in_flight.back();
  auto slots = std::to_string(m);
  std::vector<std::string> args = {a.leasehold_bin, "node", "--database-url", a.url,
                                   "--concurrency", slots, "--http-listen", "off",
                                   "--log-level", "error", "--no-migrate"};
  std::vector<char*> argv;
  for (auto& s : args)
    argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start " + a.leasehold_bin);
  std::this_thread::sleep_for(std::chrono::seconds{3});
  if (waitpid(pid, nullptr, WNOHANG) == pid)
    throw std::runtime_error("footprint: the node exited at start");
  auto idle = rss_kib(pid);
  store db{a.url};
  std::vector<new_job> jobs(static_cast<size_t>(m));
  for (auto& j : jobs) {
    j.type = "sleep";
    j.payload = R"({"ms":600000})";
  }
  db.enqueue_many(jobs);
  auto t0 = clock_type::now();
  while (std::stoll(db.query_value("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'")
                      .value_or("0")) < m) {
    if (waitpid(pid, nullptr, WNOHANG) == pid)
      throw std::runtime_error("footprint: the node exited early");
    if (seconds_since(t0) > 120) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      throw std::runtime_error("footprint: jobs not all running after 120 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  std::this_thread::sleep_for(std::chrono::seconds{2});
  auto busy = rss_kib(pid);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  std::cerr << "footprint: idle " << idle << " KiB, " << m << " in flight " << busy << " KiB\n";
  return {{"idle_rss_mib", static_cast<double>(idle) / 1024},
          {"in_flight", m},
          {"in_flight_rss_mib", static_cast<double>(busy) / 1024}};
}

} // namespace leasehold::bench
