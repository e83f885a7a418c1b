// External-command handlers: run a program with the payload on stdin.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "runtime/duration.hpp"
#include "runtime/exec_command.hpp"
#include "runtime/handler_registry.hpp"
#include "runtime/secrets.hpp"
#include "runtime/text.hpp"

namespace leasehold {

namespace {

constexpr size_t stderr_tail_bytes = 2048;

struct child_process {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
};

// The node's environment (minus secrets) and the job's LEASEHOLD_* variables;
// inherited variables of those names are replaced, so they always describe
// this attempt.
std::vector<std::string> job_environment(const std::vector<std::string>& pass_env,
                                         const job_context& ctx) {
  const std::pair<const char*, std::string> job[] = {
    {"LEASEHOLD_JOB_ID", std::to_string(ctx.job_id())},
    {"LEASEHOLD_ATTEMPT", std::to_string(ctx.attempt())},
    {"LEASEHOLD_MAX_ATTEMPTS", std::to_string(ctx.max_attempts())},
    {"LEASEHOLD_TYPE", ctx.type()},
    {"LEASEHOLD_QUEUE", ctx.queue()},
    {"LEASEHOLD_TRACE_ID", ctx.trace_id()},
    {"LEASEHOLD_CORRELATION_ID", ctx.correlation_id()},
    {"LEASEHOLD_WORKER_ID", ctx.worker_id()}};
  std::vector<std::string> env;
  for (auto& e : child_environment(pass_env)) {
    bool replaced = false;
    for (const auto& [name, value] : job)
      replaced = replaced || e.rfind(std::string{name} + "=", 0) == 0;
    if (!replaced)
      env.push_back(std::move(e));
  }
  for (const auto& [name, value] : job)
    env.push_back(std::string{name} + "=" + value);
  return env;
}

child_process start(const std::vector<std::string>& command,
                    std::vector<std::string> env) {
  // Built before fork: only async-signal-safe calls may follow it.
  std::vector<char*> argv;
  for (const auto& a : command)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const char* program = command.at(0).c_str();
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0
      || pipe2(err, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string{"pipe: "} + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string{"fork: "} + std::strerror(errno));
  if (pid == 0) {
    // Own process group, so cancellation kills the program and its children.
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(program, argv.data(), envp.data());
    dprintf(2, "cannot run %s: %s\n", program, std::strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  for (int fd : {in[1], out[0], err[0]})
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return {pid, in[1], out[0], err[0]};
}

void close_fd(int& fd) {
  if (fd >= 0)
    close(fd);
  fd = -1;
}

// Reads what is available; returns false at end of file.
bool drain(int fd, std::string& into, size_t keep_tail) {
  char buf[4096];
  for (;;) {
    auto n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      if (keep_tail > 0 && into.size() > 2 * keep_tail)
        into.erase(0, into.size() - keep_tail);
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR);
  }
}

void kill_group(pid_t pid) {
  kill(-pid, SIGTERM);
  for (int i = 0; i < 100; ++i) { // up to 1 s to exit politely
    if (waitpid(pid, nullptr, WNOHANG) == pid)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// The end of a program's stderr, as valid UTF-8: the window's start may
// fall inside a character, and programs may write any bytes.
std::string tail(const std::string& s) {
  auto t = clean_text_tail(s, stderr_tail_bytes);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r'))
    t.pop_back();
  return t;
}

// A program that exits 75 (EX_TEMPFAIL) asks to run again later: the last
// line of its stdout says after how long ("30s", "5m").
handler_result snooze_from(const std::string& out) {
  auto end = out.find_last_not_of("\r\n \t");
  auto line = end == std::string::npos ? std::string{} : out.substr(0, end + 1);
  if (auto nl = line.find_last_of('\n'); nl != std::string::npos)
    line = line.substr(nl + 1);
  try {
    return handler_result::snooze_for(parse_duration(line));
  } catch (const std::invalid_argument& e) {
    return handler_result::failure("exit status 75 asks to snooze, but the last line of"
                                   " stdout is not a delay like 30s: "
                                   + clean_text_tail(line, 200));
  }
}

handler_result run_program(const std::vector<std::string>& command,
                           std::chrono::milliseconds timeout,
                           const std::vector<std::string>& pass_env,
                           job_context& ctx) {
  auto child = start(command, job_environment(pass_env, ctx));
  auto input = ctx.payload().dump();
  size_t written = 0;
  std::string out, err;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    if (ctx.cancelled() || std::chrono::steady_clock::now() > deadline) {
      kill_group(child.pid);
      close_fd(child.in);
      close_fd(child.out);
      close_fd(child.err);
      return handler_result::failure(ctx.cancelled()
                                       ? "cancelled: program killed"
                                       : "timed out: program killed");
    }
    pollfd fds[3] = {{child.out, POLLIN, 0},
                     {child.err, POLLIN, 0},
                     {child.in, POLLOUT, 0}};
    poll(fds, child.in >= 0 ? 3 : 2, 50);
    if (child.in >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      auto n = write(child.in, input.data() + written, input.size() - written);
      if (n > 0)
        written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN)
        written = input.size(); // the program closed stdin: fine
      if (written == input.size())
        close_fd(child.in);
    }
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
      out_open = drain(child.out, out, 64 * 1024);
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      err_open = drain(child.err, err, stderr_tail_bytes);
  }
  close_fd(child.in);
  close_fd(child.out);
  close_fd(child.err);
  int status = 0;
  waitpid(child.pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return handler_result::success();
  if (WIFEXITED(status) && WEXITSTATUS(status) == exec_snooze_exit_code)
    return snooze_from(out);
  std::string why = WIFEXITED(status)
                      ? "exit status " + std::to_string(WEXITSTATUS(status))
                      : "killed by signal " + std::to_string(WTERMSIG(status));
  auto t = tail(err);
  return handler_result::failure(t.empty() ? why : why + ": " + t);
}

} // namespace

handler_fn make_exec_handler(std::vector<std::string> argv,
                             std::chrono::milliseconds timeout,
                             std::vector<std::string> pass_env) {
  if (argv.empty())
    throw std::invalid_argument("exec handler: empty command");
  return [argv = std::move(argv), timeout,
          pass_env = std::move(pass_env)](job_context& ctx) {
    return run_program(argv, timeout, pass_env, ctx);
  };
}

handler_fn make_exec_handler(std::string program,
                             std::chrono::milliseconds timeout,
                             std::vector<std::string> pass_env) {
  return make_exec_handler(std::vector<std::string>{std::move(program)}, timeout,
                           std::move(pass_env));
}

} // namespace leasehold
