// Raw bytes as an HTTP client's whole side of a connection, served by the
// node's real bridge (http_server, its limits and every route) over a
// socketpair. The observer behind it is a stand-in that runs the real
// parsers for POST bodies and answers the rest from a few canned
// documents, so the fuzzer needs no database. Every answer must be a
// well-formed HTTP response with a status below 500 whose errors are one
// JSON line.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "messages/registration.hpp"
#include "runtime/bulk_file.hpp"
#include "runtime/http_bridge.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace leasehold;

namespace {

constexpr const char* token = "fuzz-token";
const input_limits fuzz_limits{4096};

template <class F>
caf::result<std::string> parsed(F&& parse) {
  try {
    parse();
    return std::string{R"({"id":1})"};
  } catch (const std::invalid_argument& e) {
    return make_error(store_code::invalid_input, e.what());
  }
}

caf::result<std::string> answer(const observe_request& q, const input_limits& limits) {
  if (q.what == "enqueue")
    return parsed([&] { parse_job_object(q.body, limits); });
  if (q.what == "run_create")
    return parsed([&] { parse_run_object(q.body, limits); });
  if (q.what == "job" || q.what == "run")
    return std::string{q.id % 2 == 0 ? "null" : R"({"id":1,"status":"failed"})"};
  if (q.what == "retry" || q.what == "cancel")
    return std::string{q.id % 2 == 0 ? "null"
                                     : R"({"previous_status":"failed","changed":true})"};
  if (q.what == "run_retry")
    return std::string{q.id % 3 == 0 ? "null" : q.id % 3 == 1 ? R"({"retried":[]})"
                                                              : R"({"retried":["a"]})"};
  if (q.what == "runs" || q.what == "chain" || q.what == "dead_jobs" || q.what == "workers")
    return std::string{"[]"};
  return make_error(store_code::unavailable, "stand-in");
}

// (Spawned with an argument: CAF 0.17 binds a null pointer to a reference
// when a function-based actor has none, which UBSan reports.)
observer_actor::behavior_type stand_in_observer(input_limits limits) {
  return {
    [](health_atom) -> caf::result<std::string> { return std::string{R"({"status":"ok"})"}; },
    [](metrics_atom) -> caf::result<std::string> { return std::string{"leasehold_up 1\n"}; },
    [limits](observe_atom, const observe_request& q) { return answer(q, limits); },
  };
}

struct harness {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<http_bridge> bridge;

  harness() {
    register_messages(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    http_config h;
    h.port = 0;
    h.token = token;
    h.body_limit = fuzz_limits.max_payload_bytes + 1024;
    bridge = std::make_unique<http_bridge>(*sys, sys->spawn(stand_in_observer, fuzz_limits), h);
  }
};

harness& the_harness() {
  static harness* h = new harness; // lives for the whole run
  return *h;
}

// Each response in what the server wrote: status below 500, errors as one
// JSON line.
void check_responses(const std::string& out) {
  size_t at = 0;
  while (at < out.size()) {
    fuzz::require(out.compare(at, 9, "HTTP/1.1 ") == 0, "not an HTTP response", out.substr(at, 80));
    int status = std::atoi(out.c_str() + at + 9);
    fuzz::require(status >= 100 && status < 500, "status 5xx or nonsense", out.substr(at, 200));
    auto head_end = out.find("\r\n\r\n", at);
    fuzz::require(head_end != std::string::npos, "response head cut short", out.substr(at, 200));
    auto head = out.substr(at, head_end - at);
    auto cl = head.find("\r\nContent-Length: ");
    size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 18));
    // The answer to a HEAD has a length but no body: the next answer, or
    // nothing, follows its head. (No body the server sends starts so.)
    auto next = head_end + 4;
    bool head_only = next == out.size() || out.compare(next, 9, "HTTP/1.1 ") == 0;
    if (head_only)
      length = 0;
    auto body = out.substr(next, length);
    fuzz::require(body.size() == length, "response body cut short", head);
    if (status == 100) { // 100 Continue has no body
      at = head_end + 4;
      continue;
    }
    if (!head_only && status >= 400 && head.find("application/json") != std::string::npos) {
      // A 409 (nothing to retry or cancel) says so in "message".
      const char* key = status == 409 ? "message" : "error";
      auto j = nlohmann::json::parse(body, nullptr, false);
      fuzz::require(j.is_object() && j.contains(key) && j[key].is_string(),
                    "error body is not {\"error\": ...}", body);
      fuzz::require_one_line(j[key].get<std::string>());
    }
    at = head_end + 4 + length;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = the_harness();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
    return 0;
  std::string out;
  std::thread client([&] {
    // The client's side: its bytes, then the end of its stream, reading
    // answers all along (a server writing a large answer stops reading).
    size_t sent = 0;
    bool open = true, done_sending = size == 0;
    if (done_sending)
      ::shutdown(fds[0], SHUT_WR);
    char buf[65536];
    while (open) {
      pollfd p{fds[0], static_cast<short>(POLLIN | (done_sending ? 0 : POLLOUT)), 0};
      if (::poll(&p, 1, 10000) <= 0)
        break;
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        auto n = ::recv(fds[0], buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
          out.append(buf, static_cast<size_t>(n));
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
          open = false;
      }
      if (!done_sending && (p.revents & POLLOUT)) {
        auto n = ::send(fds[0], data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
          sent += static_cast<size_t>(n);
        if (sent == size || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          done_sending = true;
          ::shutdown(fds[0], SHUT_WR);
        }
      }
    }
    ::close(fds[0]);
  });
  h.bridge->serve_connection(fds[1]); // closes fds[1]
  client.join();
  check_responses(out);
  return 0;
}
