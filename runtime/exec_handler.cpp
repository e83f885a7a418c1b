// External-command handlers: run a program with the payload on stdin.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "runtime/duration.hpp"
#include "runtime/exec_command.hpp"
#include "runtime/handler_registry.hpp"
#include "runtime/input_limits.hpp"
#include "runtime/secrets.hpp"
#include "runtime/text.hpp"

namespace leasehold {

namespace {

constexpr size_t stderr_tail_bytes = 2048;

// The descriptor on which a program may report progress, named to it in
// LEASEHOLD_PROGRESS_FD: lines like "42 copied 42 of 100 files".
constexpr int progress_fd = 3;
constexpr size_t progress_line_bytes = 1024;

struct child_process {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1, progress = -1;
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
    {"LEASEHOLD_WORKER_ID", ctx.worker_id()},
    {"LEASEHOLD_PROGRESS_FD", std::to_string(progress_fd)}};
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
  int in[2], out[2], err[2], prog[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0
      || pipe2(err, O_CLOEXEC) != 0 || pipe2(prog, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string{"pipe: "} + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string{"fork: "} + std::strerror(errno));
  if (pid == 0) {
    // Own process group, so cancellation kills the program and its children.
    setpgid(0, 0);
    // The signal state a program expects: this thread blocks most signals
    // (the node's sigwait takes SIGTERM) and the node ignores SIGPIPE, and
    // both would pass through exec; a cancel's SIGTERM would then wait out
    // its grace period and end in SIGKILL.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    // dup2 onto itself would keep close-on-exec set.
    if (prog[1] == progress_fd)
      fcntl(progress_fd, F_SETFD, 0);
    else
      dup2(prog[1], progress_fd);
    execve(program, argv.data(), envp.data());
    dprintf(2, "cannot run %s: %s\n", program, std::strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(prog[1]);
  for (int fd : {in[1], out[0], err[0], prog[0]})
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return {pid, in[1], out[0], err[0], prog[0]};
}

void close_fd(int& fd) {
  if (fd >= 0)
    close(fd);
  fd = -1;
}

// What a program wrote to one stream: its head up to `head_cap` bytes, its
// last `tail_cap` bytes, and how much it wrote in all.
struct captured {
  captured(size_t head_cap, size_t tail_cap) : head_cap(head_cap), tail_cap(tail_cap) {}
  size_t head_cap, tail_cap;
  std::string head, tail;
  size_t total = 0;

  void add(const char* data, size_t n) {
    total += n;
    if (head.size() < head_cap)
      head.append(data, std::min(n, head_cap - head.size()));
    tail.append(data, n);
    if (tail.size() > 2 * tail_cap)
      tail.erase(0, tail.size() - tail_cap);
  }
};

// Reads what is available; returns false at end of file.
bool drain(int fd, captured& into) {
  char buf[4096];
  for (;;) {
    auto n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      into.add(buf, static_cast<size_t>(n));
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR);
  }
}

// Reports each complete line of the progress stream ("42 message"; lines
// that do not start with a number are ignored); keeps a partial line for
// the next read. Returns false at end of file.
bool read_progress(int fd, std::string& partial, job_context& ctx) {
  captured chunk{size_t{64} << 10, 0};
  bool open = drain(fd, chunk);
  partial += chunk.head;
  size_t start = 0;
  for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto line = partial.substr(start, std::min(nl - start, progress_line_bytes));
    char* end = nullptr;
    errno = 0;
    double value = std::strtod(line.c_str(), &end);
    if (end == line.c_str() || errno == ERANGE)
      continue;
    std::string message{end};
    message.erase(0, message.find_first_not_of(" \t"));
    while (!message.empty() && (message.back() == '\r' || message.back() == ' '))
      message.pop_back();
    ctx.progress(value, message);
  }
  partial.erase(0, start);
  if (partial.size() > progress_line_bytes) // a line without end: drop it
    partial.clear();
  return open;
}

// A program's stdout as its attempt's output: JSON if it parses, else the
// text as a JSON string; none when it wrote nothing but white space.
nlohmann::json output_of(const captured& out, size_t max_bytes) {
  if (out.total > max_bytes)
    return {{"truncated", true},
            {"bytes", out.total},
            {"head", clean_text(out.head, std::min<size_t>(1024, max_bytes / 2))}};
  const auto& text = out.head;
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return nullptr;
  try {
    check_json_text(text);
    auto value = nlohmann::json::parse(text, nullptr, false);
    if (!value.is_discarded())
      return value;
  } catch (const std::invalid_argument&) {
    // too deep or a NUL byte: kept as text
  }
  auto last = text.find_last_not_of(" \t\r\n");
  return clean_text(text.substr(first, last - first + 1), max_bytes);
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
handler_result snooze_from(const std::string& out) { // stdout's tail
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
  const auto max_output = ctx.limits().max_output_bytes;
  captured out{max_output + 1, 4096}, err{0, stderr_tail_bytes};
  std::string progress_partial;
  auto close_all = [&] {
    for (int* fd : {&child.in, &child.out, &child.err, &child.progress})
      close_fd(*fd);
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    if (ctx.cancelled() || std::chrono::steady_clock::now() > deadline) {
      kill_group(child.pid);
      close_all();
      return handler_result::failure(ctx.cancelled()
                                       ? "cancelled: program killed"
                                       : "timed out: program killed");
    }
    // Unused descriptors (-1) are skipped by poll.
    pollfd fds[4] = {{child.out, POLLIN, 0},
                     {child.err, POLLIN, 0},
                     {child.progress, POLLIN, 0},
                     {child.in, POLLOUT, 0}};
    poll(fds, 4, 50);
    if (child.progress >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
        && !read_progress(child.progress, progress_partial, ctx))
      close_fd(child.progress);
    if (child.in >= 0 && (fds[3].revents & (POLLOUT | POLLERR | POLLHUP))) {
      auto n = write(child.in, input.data() + written, input.size() - written);
      if (n > 0)
        written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN)
        written = input.size(); // the program closed stdin: fine
      if (written == input.size())
        close_fd(child.in);
    }
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
      out_open = drain(child.out, out);
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      err_open = drain(child.err, err);
  }
  // Lines written just before the program closed stdout and stderr.
  if (child.progress >= 0)
    read_progress(child.progress, progress_partial, ctx);
  close_all();
  int status = 0;
  waitpid(child.pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return handler_result::success(output_of(out, max_output));
  if (WIFEXITED(status) && WEXITSTATUS(status) == exec_snooze_exit_code)
    return snooze_from(out.tail);
  std::string why = WIFEXITED(status)
                      ? "exit status " + std::to_string(WEXITSTATUS(status))
                      : "killed by signal " + std::to_string(WTERMSIG(status));
  auto t = tail(err.tail);
  return handler_result::failure(t.empty() ? why : why + ": " + t)
    .with_output(output_of(out, max_output));
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
