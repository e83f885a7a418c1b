#include "tests/support/process.hpp"

#include <cstdlib>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace leasehold::test {

namespace {

pid_t spawn(const std::vector<std::string>& argv,
            const std::map<std::string, std::string>& env, int in_fd,
            int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    for (const auto& [k, v] : env)
      setenv(k.c_str(), v.c_str(), 1);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_path(const char* tag) {
  static int counter = 0;
  return "/tmp/leasehold-test-" + std::to_string(getpid()) + "-" + tag
         + std::to_string(++counter);
}

} // namespace

std::string leasehold_bin() {
  // LEASEHOLD_TEST_BIN runs the tests against another build, e.g. the code
  // before a fix, to see a regression test fail first.
  if (const char* other = std::getenv("LEASEHOLD_TEST_BIN"); other && *other)
    return other;
  return LEASEHOLD_BIN;
}

std::string fault_proxy_bin() { return LEASEHOLD_FAULT_PROXY_BIN; }

run_result run(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env,
               const std::string& stdin_text) {
  return run_for(argv, env, -1, stdin_text);
}

run_result run_for(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env, int timeout_ms,
                   const std::string& stdin_text) {
  auto in_path = temp_path("in");
  auto out_path = temp_path("out");
  auto err_path = temp_path("err");
  std::ofstream{in_path} << stdin_text;
  int in = open(in_path.c_str(), O_RDONLY);
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  auto pid = spawn(argv, env, in, out, err);
  close(in);
  close(out);
  close(err);
  int status = 0;
  bool timed_out = false;
  if (timeout_ms < 0) {
    waitpid(pid, &status, 0);
  } else {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
    while (waitpid(pid, &status, WNOHANG) != pid) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
  }
  run_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (timed_out)
    r.exit_code = -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  for (const auto& p : {in_path, out_path, err_path})
    unlink(p.c_str());
  return r;
}

background_process::background_process(
  const std::vector<std::string>& argv, const std::string& log_path,
  const std::map<std::string, std::string>& env)
  : log_path_(log_path) {
  int in = open("/dev/null", O_RDONLY);
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_ = spawn(argv, env, in, log, log);
  close(in);
  close(log);
}

background_process::~background_process() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void background_process::signal(int sig) {
  if (!reaped_)
    kill(pid_, sig);
}

int background_process::wait(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds{timeout_ms};
  while (!reaped_) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status)
                                  : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return status_;
}

std::string background_process::log() const {
  return read_file(log_path_);
}

} // namespace leasehold::test
