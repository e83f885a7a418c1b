#pragma once

#include <stdexcept>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "runtime/http_bridge.hpp"
#include "runtime/http_server.hpp"

/// The inside of the HTTP bridge, shared by http_bridge.cpp (the server's
/// life and the round trips to the observer) and http_routes.cpp (the
/// route table, parameters and tokens). Not for other includes.
namespace leasehold {

/// A request the client got wrong: status and a message for it.
struct http_error : std::runtime_error {
  int status;
  http_error(int s, const std::string& msg) : std::runtime_error(msg), status(s) {}
};

/// Answers with a JSON document and a status.
void send_json(httplib::Response& res, int status, const std::string& body);

struct http_bridge::impl {
  caf::actor_system& sys;
  observer_actor observer;
  http_config cfg;
  http_server server;
  std::thread thread;
  int port = 0;

  impl(caf::actor_system& s, observer_actor o, http_config c);

  /// Asks the observer and answers with its JSON (or text); store errors
  /// become 400 (bad input) or 503, never internals.
  template <class... Ts>
  void ask(httplib::Response& res, const char* content_type, Ts&&... xs) {
    caf::scoped_actor self{sys};
    self->request(observer, observer_timeout, std::forward<Ts>(xs)...)
      .receive([&](const std::string& body) {
                 res.status = 200;
                 res.set_content(body, content_type);
               },
               [&](const caf::error& err) { answer_error(res, err); });
  }

  void answer_error(httplib::Response& res, const caf::error& err);

  /// An observe request; a "null" answer is a 404 when `null_is_404`.
  void observe(httplib::Response& res, observe_request req, bool null_is_404 = false);

  /// POST of a new job or run: authorized, answered 201 with its id.
  void create(const httplib::Request& req, httplib::Response& res, const char* what);

  /// Retry or cancel of job `id`: 200 when it changed, 409 when not.
  void change(httplib::Response& res, const std::string& what, int64_t id);

  /// Registers every route (http_routes.cpp).
  void routes();

  static constexpr auto observer_timeout = std::chrono::seconds{10};
};

} // namespace leasehold
