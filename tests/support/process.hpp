#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

/// Runs real processes for CLI and multi-node tests.
namespace leasehold::test {

/// Path of the built `leasehold` binary.
std::string leasehold_bin();

/// Path of the built `leasehold-fault-proxy` binary.
std::string fault_proxy_bin();

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs argv to completion with extra environment; captures its output.
run_result run(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env = {},
               const std::string& stdin_text = "");

/// As run(), but a process still running after `timeout` is killed
/// (SIGKILL) and reported with exit_code -1.
run_result run_for(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env, int timeout_ms,
                   const std::string& stdin_text = "");

/// A background process (e.g. a node) whose stderr goes to a log file.
class background_process {
public:
  background_process(const std::vector<std::string>& argv,
                     const std::string& log_path,
                     const std::map<std::string, std::string>& env = {});
  ~background_process(); // SIGKILL if still running
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;

  void signal(int sig);
  /// Waits up to timeout_ms; returns the exit code, or -1 on timeout (or
  /// 128+N when killed by signal N).
  int wait(int timeout_ms);
  pid_t pid() const { return pid_; }
  std::string log() const;

private:
  pid_t pid_ = -1;
  std::string log_path_;
  int status_ = -1;
  bool reaped_ = false;
};

} // namespace leasehold::test
