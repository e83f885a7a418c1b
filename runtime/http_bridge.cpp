#include "runtime/http_bridge.hpp"

#include <regex>
#include <stdexcept>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "runtime/http_bridge_impl.hpp"
#include "runtime/log.hpp"
#include "runtime/text.hpp"

namespace leasehold {

namespace {

http_server_limits server_limits(const http_config& cfg) {
  http_server_limits limits;
  limits.body_bytes = cfg.body_limit;
  return limits;
}

} // namespace

void send_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

http_config parse_http_listen(const std::string& text) {
  static const std::regex form{R"(([0-9A-Za-z.\-]{1,253}):([0-9]{1,5}))"};
  std::smatch m;
  if (text.size() > 300 || !std::regex_match(text, m, form) || std::stoi(m[2]) > 65535)
    throw std::invalid_argument("invalid --http-listen '" + one_line(text, 60)
                                + "': expected HOST:PORT, e.g. 127.0.0.1:8080");
  http_config cfg;
  cfg.host = m[1];
  cfg.port = std::stoi(m[2]);
  return cfg;
}

http_bridge::impl::impl(caf::actor_system& s, observer_actor o, http_config c)
  : sys(s), observer(std::move(o)), cfg(std::move(c)), server(server_limits(cfg)) {}

void http_bridge::impl::answer_error(httplib::Response& res, const caf::error& err) {
  if (err.category() == store_category
      && err.code() == static_cast<uint8_t>(store_code::invalid_input)) {
    auto ctx = err.context();
    send_error(res, 400, ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0)
                                                           : "invalid input");
  } else if (err.category() == store_category
             && err.code() == static_cast<uint8_t>(store_code::unavailable)) {
    send_error(res, 503, "the database is unreachable; the node is reconnecting");
  } else {
    // Details go to the log, never to the client.
    log::error("http request failed", {{"error", sys.render(err)}});
    send_error(res, 500, "internal error");
  }
}

void http_bridge::impl::observe(httplib::Response& res, observe_request req,
                                bool null_is_404) {
  ask(res, "application/json", observe_atom::value, req);
  if (null_is_404 && res.status == 200 && res.body == "null")
    send_error(res, 404, "no job " + std::to_string(req.id));
}

void http_bridge::impl::change(httplib::Response& res, const std::string& what, int64_t id) {
  observe_request req;
  req.what = what;
  req.id = id;
  observe(res, req, true);
  if (res.status != 200)
    return;
  auto j = nlohmann::json::parse(res.body);
  j["job_id"] = id;
  j["message"] = j["changed"].get<bool>()
                   ? what + " done"
                   : "nothing to " + what + ": the job is "
                       + j["previous_status"].get<std::string>();
  send_json(res, j["changed"].get<bool>() ? 200 : 409, j.dump());
}

http_bridge::http_bridge(caf::actor_system& sys, observer_actor observer,
                         http_config cfg)
  : impl_(std::make_unique<impl>(sys, std::move(observer), std::move(cfg))) {
  auto& s = impl_->server;
  s.set_tcp_nodelay(true); // else keep-alive clients wait ~40ms per request
  impl_->routes();
  if (impl_->cfg.port == 0)
    impl_->port = s.bind_to_any_port(impl_->cfg.host);
  else if (s.bind_to_port(impl_->cfg.host.c_str(), impl_->cfg.port))
    impl_->port = impl_->cfg.port;
  else
    impl_->port = -1;
  if (impl_->port <= 0)
    throw std::runtime_error("cannot listen on " + impl_->cfg.host + ":"
                             + std::to_string(impl_->cfg.port));
  s.set_listen_backlog(static_cast<int>(s.limits().waiting));
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

http_bridge::~http_bridge() {
  // stop() does nothing before the listener runs: give it a moment to.
  for (int i = 0; i < 200 && !impl_->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  impl_->server.halt();
  impl_->thread.join();
}

int http_bridge::port() const {
  return impl_->port;
}

void http_bridge::serve_connection(int fd) {
  impl_->server.serve_connection(fd);
}

} // namespace leasehold
