#include "runtime/http_server.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/http_connection.hpp"
#include "runtime/log.hpp"
#include "runtime/text.hpp"

namespace leasehold {

namespace {

// Set while the listener runs a connection it pushed out of the queue.
thread_local bool shedding = false;

// The connection this thread serves, for the handlers httplib calls.
thread_local http_connection* current = nullptr;

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string error_json(int status, const std::string& message) {
  return nlohmann::json{{"error", one_line(message, 300)}, {"status", status}}.dump();
}

// An answer written straight to the socket, when httplib has not written one.
void answer_raw(int fd, int status, const std::string& message) {
  auto body = error_json(status, message);
  auto text = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status)
              + "\r\nContent-Type: application/json\r\nContent-Length: "
              + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  // Best effort, never waiting: the client may be the reason for it.
  (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

std::string default_message(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "request body too large";
    case 414: return "request line too long";
    case 416: return "unsatisfiable Range header";
    default: return "request failed";
  }
}

// A connection closed with unread input in its buffer is reset, and the
// reset can destroy the answer before the client reads it: so, after a
// refusal, stop writing and read what is still coming for a moment
// (at most 8 MiB, 1s; 100ms while others wait). The time is the bound that
// matters; 8 MiB lets a client that sends a body a few times the limit
// before it reads (as most do) get its 413.
void drain(int fd, bool contended) {
  ::shutdown(fd, SHUT_WR);
  auto deadline = std::chrono::steady_clock::now()
                  + (contended ? std::chrono::milliseconds{100} : std::chrono::seconds{1});
  char buf[16384];
  for (size_t total = 0; total < (size_t{8} << 20);) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return;
    auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
      return;
    total += n > 0 ? static_cast<size_t>(n) : 0;
  }
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

/// Accepted connections waiting for one of at most `threads` threads,
/// started on demand. Past `waiting` of them the oldest is run on the
/// listener's thread with `shedding` set: answered 503 and closed at once.
class connection_queue final : public httplib::TaskQueue {
public:
  connection_queue(size_t threads, size_t waiting, std::atomic<connection_queue*>& owner)
    : max_threads_(std::max<size_t>(threads, 1)), max_waiting_(std::max<size_t>(waiting, 1)),
      owner_(owner) {
    owner_ = this;
  }

  ~connection_queue() override {
    shutdown();
    owner_ = nullptr;
  }

  void enqueue(std::function<void()> fn) override {
    std::function<void()> pushed_out;
    {
      std::lock_guard<std::mutex> lock{mutex_};
      if (jobs_.size() >= max_waiting_) {
        pushed_out = std::move(jobs_.front());
        jobs_.pop_front();
      }
      jobs_.push_back(std::move(fn));
      waiting_ = jobs_.size();
      if (idle_ < jobs_.size() && threads_.size() < max_threads_)
        start_thread();
    }
    cond_.notify_one();
    if (pushed_out) {
      shedding = true;
      pushed_out();
      shedding = false;
    }
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock{mutex_};
      if (stopping_)
        return;
      stopping_ = true;
    }
    cond_.notify_all();
    for (auto& t : threads_)
      t.join();
  }

  size_t waiting() const { return waiting_; }

private:
  void start_thread() {
    try {
      threads_.emplace_back([this] { work(); });
    } catch (const std::system_error& e) {
      // The waiting connections go to the threads there are.
      log::warn("http: cannot start another thread", {{"error", e.what()}});
    }
  }

  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock{mutex_};
        ++idle_;
        cond_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        --idle_;
        if (jobs_.empty())
          return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        waiting_ = jobs_.size();
      }
      fn();
    }
  }

  const size_t max_threads_, max_waiting_;
  std::atomic<connection_queue*>& owner_;
  std::mutex mutex_;
  std::condition_variable cond_;
  std::list<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
  std::atomic<size_t> waiting_{0};
};

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(error_json(status, message), "application/json");
}

http_server::http_server(http_server_limits limits) : limits_(limits) {
  set_payload_max_length(limits_.body_bytes);
  set_keep_alive_max_count(std::max<size_t>(limits_.requests_per_connection, 1));
  set_keep_alive_timeout(std::max<time_t>(limits_.idle_time.count() / 1000, 1));
  new_task_queue = [this] {
    return new connection_queue(limits_.threads, limits_.waiting, queue_);
  };
  // Before a body is read: only bodies of a known, bounded length, sent as
  // they are. Refused requests close their connection (their body is unread).
  // httplib's own Request is not const; this handler is only given it as one.
  set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    auto refuse = [&](int status, const std::string& message) {
      send_error(res, status, message);
      res.set_header("Connection", "close");
      if (current)
        current->close_after_answer();
      return HandlerResponse::Handled;
    };
    // Range is ignored (RFC 9110 14.2 allows it): httplib would cut error
    // answers too, into JSON no client can parse.
    const_cast<httplib::Request&>(req).ranges.clear();
    if (req.has_header("Transfer-Encoding"))
      return refuse(411, "Transfer-Encoding is not supported: send the body with a"
                         " Content-Length");
    if (req.has_header("Content-Encoding") && req.get_header_value("Content-Encoding") != "identity")
      return refuse(415, "Content-Encoding is not supported: send the body uncompressed");
    bool body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    auto lengths = req.get_header_value_count("Content-Length");
    if (lengths > 1)
      return refuse(400, "more than one Content-Length");
    if (lengths == 0) {
      // No length and no Transfer-Encoding: the body is empty (RFC 9112
      // 6.3), where httplib would read until the client closes.
      if (body_method)
        const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
      return HandlerResponse::Unhandled;
    }
    auto text = req.get_header_value("Content-Length");
    if (!all_digits(text) || text.size() > 18)
      return refuse(400, "invalid Content-Length");
    auto length = std::stoull(text);
    if (length > limits_.body_bytes)
      return refuse(413, "request body too large: " + text + " bytes, over the limit of "
                           + std::to_string(limits_.body_bytes) + " bytes");
    if (length > 0 && !body_method && req.method != "DELETE" && current)
      current->close_after_answer(); // httplib leaves such a body unread
    return HandlerResponse::Unhandled;
  });
  set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (current && current->refused()) {
      auto [status, message] = current->refusal();
      send_error(res, status, message);
      res.set_header("Connection", "close");
    } else if (res.body.empty()) {
      send_error(res, res.status, default_message(res.status));
    }
  });
  set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                           std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep)
        std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error("http handler failed", {{"path", one_line(req.path, 200)}, {"error", what}});
    send_error(res, 500, "internal error");
  });
}

http_server::~http_server() = default;

void http_server::halt() {
  halted_ = true;
  stop();
}

void http_server::set_listen_backlog(int n) {
  socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET)
    ::listen(sock, n); // on a listening socket, this only changes its backlog
}

bool http_server::contended() const {
  auto* q = queue_.load();
  return q != nullptr && q->waiting() > 0;
}

bool http_server::process_and_close_socket(socket_t sock) {
  serve_connection(sock);
  return true;
}

void http_server::serve_connection(int fd) {
  if (shedding) {
    answer_raw(fd, 503, "too many connections: try again");
  } else {
    try {
      http_connection conn{fd, limits_, [this] { return contended(); }, halted_};
      current = &conn;
      for (size_t n = 0; n < limits_.requests_per_connection; ++n) {
        if (!conn.await_request())
          break;
        bool closed = false;
        bool ok = process_request(conn, n + 1 == limits_.requests_per_connection, closed,
                                  nullptr);
        if (conn.refused() && !conn.answered()) {
          auto [status, message] = conn.refusal();
          answer_raw(fd, status, message);
        }
        if (conn.refused() || conn.closing()) {
          drain(fd, contended());
          break;
        }
        if (!ok || closed || conn.must_close())
          break;
      }
    } catch (const std::exception& e) {
      log::warn("http connection failed", {{"error", e.what()}});
    }
    current = nullptr;
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

} // namespace leasehold
