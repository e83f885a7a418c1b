// The bridge's routes: paths, parameters, tokens and what each asks the
// observer. Everything a client sends is checked here before it goes on;
// a bad value is a 4xx that says which, never a 500.
#include <regex>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "runtime/dashboard.hpp"
#include "runtime/http_bridge_impl.hpp"
#include "runtime/input_limits.hpp"
#include "runtime/queue_limits.hpp"

namespace leasehold {

namespace {

constexpr size_t max_text_param = 200;

int64_t integer_param(const httplib::Request& req, const char* name,
                      int64_t fallback, int64_t min, int64_t max) {
  if (!req.has_param(name))
    return fallback;
  auto text = req.get_param_value(name);
  static const std::regex digits{"[0-9]{1,9}"};
  if (!std::regex_match(text, digits) || std::stoll(text) < min
      || std::stoll(text) > max)
    throw http_error(400, std::string{name} + " must be an integer from "
                            + std::to_string(min) + " to " + std::to_string(max));
  return std::stoll(text);
}

std::string text_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name))
    return "";
  auto text = req.get_param_value(name);
  if (text.empty() || text.size() > max_text_param)
    throw http_error(400, std::string{name} + " must be 1 to "
                            + std::to_string(max_text_param) + " characters");
  try {
    check_name(name, text); // a NUL would silently cut the text Postgres sees
  } catch (const std::invalid_argument& e) {
    throw http_error(400, e.what());
  }
  return text;
}

int64_t job_id(const std::string& text) {
  static const std::regex digits{"[0-9]{1,18}"};
  if (!std::regex_match(text, digits) || std::stoll(text) < 1)
    throw http_error(404, "no such job: ids are positive integers");
  return std::stoll(text);
}

// Constant-time comparison: no timing hints about the token.
bool token_matches(const std::string& given, const std::string& token) {
  if (token.empty())
    return false;
  unsigned diff = given.size() == token.size() ? 0u : 1u;
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned>(given[i] ^ token[i % token.size()]);
  return diff == 0;
}

std::string bearer(const httplib::Request& req) {
  auto header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.compare(0, prefix.size(), prefix) != 0)
    throw http_error(401, "missing bearer token");
  return header.substr(prefix.size());
}

// Writes need "Authorization: Bearer <token>"; with no token configured they
// are disabled altogether.
void authorize(const httplib::Request& req, const std::string& token) {
  if (token.empty())
    throw http_error(403, "writes are disabled: start the node with --http-token"
                          " or LEASEHOLD_HTTP_TOKEN");
  if (!token_matches(bearer(req), token))
    throw http_error(403, "wrong bearer token");
}

// With a read token set, reads need it or the write token.
void authorize_read(const httplib::Request& req, const http_config& cfg) {
  if (cfg.read_token.empty())
    return;
  auto given = bearer(req);
  // Both compared, so the time does not tell which one matched.
  bool ok = token_matches(given, cfg.read_token);
  ok = token_matches(given, cfg.token) || ok;
  if (!ok)
    throw http_error(403, "wrong bearer token");
}

// {} (every failed partition) or {"partition": "KEY"}, KEY a real key: an
// empty one would mean "all" further down, and a NUL would cut it short.
std::string retried_partition(const std::string& text) {
  if (text.empty())
    return "";
  try {
    check_json_text(text);
  } catch (const std::invalid_argument& e) {
    throw http_error(400, e.what());
  }
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (!body.is_object() || body.size() > 1
      || (body.size() == 1 && !(body.contains("partition") && body["partition"].is_string())))
    throw http_error(400, R"(body must be {} (all failed) or {"partition": "KEY"})");
  if (body.empty())
    return "";
  auto key = body["partition"].get<std::string>();
  try {
    check_name("partition", key);
  } catch (const std::invalid_argument& e) {
    throw http_error(400, e.what());
  }
  return key;
}

} // namespace

void http_bridge::impl::create(const httplib::Request& req, httplib::Response& res,
                               const char* what) {
  authorize(req, cfg.token);
  observe_request q;
  q.what = what;
  q.body = req.body;
  if (std::string{what} == "enqueue" && req.has_header("Idempotency-Key")) {
    q.key = req.get_header_value("Idempotency-Key");
    if (q.key.empty())
      throw http_error(400, "Idempotency-Key must not be empty");
  }
  ask(res, "application/json", observe_atom::value, q);
  // 201 for a new job; 200 when a job already held its unique key.
  if (res.status == 200) {
    auto reply = nlohmann::json::parse(res.body, nullptr, false);
    if (!(reply.is_object() && reply.value("duplicate", false)))
      res.status = 201;
  }
}

void http_bridge::impl::routes() {
  auto guarded = [this](auto fn, bool open = false) {
    return [this, fn, open](const httplib::Request& req, httplib::Response& res) {
      try {
        if (!open && req.method != "POST") // HEAD runs the GET handler too
          authorize_read(req, cfg);
        fn(req, res);
      } catch (const http_error& e) {
        send_error(res, e.status, e.what());
        if (e.status == 401)
          res.set_header("WWW-Authenticate", "Bearer");
      }
    };
  };
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(dashboard_html, "text/html; charset=utf-8");
  });
  server.Get("/livez", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, R"({"status":"ok"})");
  });
  server.Get("/health", guarded([this](const auto&, auto& res) {
    ask(res, "application/json", health_atom::value);
  }));
  server.Get("/metrics", guarded([this](const auto&, auto& res) {
    ask(res, "text/plain; version=0.0.4", metrics_atom::value);
  }, true));
  server.Get("/workers", guarded([this](const auto&, auto& res) {
    observe_request q;
    q.what = "workers";
    observe(res, q);
  }));
  server.Get("/cluster", guarded([this](const auto&, auto& res) {
    observe_request q;
    q.what = "cluster";
    ask(res, "application/json", observe_atom::value, q);
    if (res.status == 200 && res.body == "null")
      throw http_error(503, "this node's cluster links are off (--cluster-listen off)");
  }));
  server.Post(R"(/workers/([^/]+)/drain)", guarded([this](const auto& req, auto& res) {
    authorize(req, cfg.token);
    observe_request q;
    q.what = "drain";
    q.key = req.matches[1];
    try {
      check_name("worker id", q.key);
    } catch (const std::invalid_argument& e) {
      throw http_error(400, e.what());
    }
    ask(res, "application/json", observe_atom::value, q);
    if (res.status == 200 && res.body == "null")
      throw http_error(404, "no live worker " + q.key);
    if (res.status == 200)
      send_json(res, 202, nlohmann::json{{"worker_id", q.key}, {"drain", "requested"}}.dump());
  }));
  server.Get("/dead-jobs", guarded([this](const auto& req, auto& res) {
    observe_request q;
    q.what = "dead_jobs";
    q.limit = static_cast<int32_t>(integer_param(req, "limit", 50, 1, 1000));
    q.since_hours = static_cast<int32_t>(integer_param(req, "since_hours", 24, 1, 24 * 366));
    q.type = text_param(req, "type");
    q.correlation_id = text_param(req, "correlation_id");
    observe(res, q);
  }));
  server.Get("/queues", guarded([this](const auto&, auto& res) {
    observe_request q;
    q.what = "queues";
    observe(res, q);
  }));
  server.Post(R"(/queues/([^/]+)/(pause|resume))", guarded([this](const auto& req, auto& res) {
    authorize(req, cfg.token);
    observe_request q;
    q.what = std::string{"queue_"} + req.matches[2].str();
    q.key = req.matches[1];
    observe(res, q);
  }));
  // Body: {"concurrency": N, "per_key": M, "rate": "10/s", "burst": B},
  // each optional, null removing one.
  server.Post(R"(/queues/([^/]+)/limits)", guarded([this](const auto& req, auto& res) {
    authorize(req, cfg.token);
    observe_request q;
    q.what = "queue_limits";
    q.key = req.matches[1];
    try {
      check_json_text(req.body);
      q.body = checked_queue_limits(nlohmann::json::parse(req.body));
    } catch (const std::exception& e) {
      throw http_error(400, e.what());
    }
    observe(res, q);
  }));
  server.Get("/running", guarded([this](const auto& req, auto& res) {
    observe_request q;
    q.what = "running";
    q.limit = static_cast<int32_t>(integer_param(req, "limit", 50, 1, 1000));
    observe(res, q);
  }));
  server.Get("/jobs", guarded([this](const auto& req, auto& res) {
    observe_request q;
    q.what = "chain";
    q.correlation_id = text_param(req, "correlation_id");
    if (q.correlation_id.empty())
      throw http_error(400, "correlation_id is required");
    observe(res, q);
  }));
  server.Get(R"(/jobs/([^/]+))", guarded([this](const auto& req, auto& res) {
    observe_request q;
    q.what = "job";
    q.id = job_id(req.matches[1]);
    observe(res, q, true);
  }));
  server.Post("/jobs", guarded([this](const auto& req, auto& res) {
    create(req, res, "enqueue");
  }));
  server.Post(R"(/jobs/([^/]+)/(retry|cancel))", guarded([this](const auto& req, auto& res) {
    authorize(req, cfg.token);
    change(res, req.matches[2], job_id(req.matches[1]));
  }));
  server.Get("/runs", guarded([this](const auto& req, auto& res) {
    observe_request q;
    q.what = "runs";
    q.limit = static_cast<int32_t>(integer_param(req, "limit", 20, 1, 500));
    observe(res, q);
  }));
  server.Get(R"(/runs/([^/]+))", guarded([this](const auto& req, auto& res) {
    observe_request q;
    q.what = "run";
    q.id = job_id(req.matches[1]);
    ask(res, "application/json", observe_atom::value, q);
    if (res.status == 200 && res.body == "null")
      send_error(res, 404, "no run " + std::to_string(q.id));
  }));
  server.Post("/runs", guarded([this](const auto& req, auto& res) {
    create(req, res, "run_create");
  }));
  server.Post(R"(/runs/([^/]+)/retry)", guarded([this](const auto& req, auto& res) {
    authorize(req, cfg.token);
    observe_request q;
    q.what = "run_retry";
    q.id = job_id(req.matches[1]);
    q.key = retried_partition(req.body);
    ask(res, "application/json", observe_atom::value, q);
    if (res.status != 200)
      return;
    if (res.body == "null")
      throw http_error(404, "no run " + std::to_string(q.id));
    auto j = nlohmann::json::parse(res.body);
    bool any = !j["retried"].empty();
    j["message"] = any ? "queued again" : "nothing to retry: no matching partition is failed";
    send_json(res, any ? 200 : 409, j.dump());
  }));
  server.Get("/schedules", guarded([this](const auto&, auto& res) {
    observe_request q;
    q.what = "schedules";
    observe(res, q);
  }));
  server.Post("/schedules", guarded([this](const auto& req, auto& res) {
    create(req, res, "schedule_create");
  }));
  server.Post(R"(/schedules/([^/]+)/(pause|resume|remove))",
              guarded([this](const auto& req, auto& res) {
    authorize(req, cfg.token);
    observe_request q;
    q.what = "schedule_" + std::string{req.matches[2]};
    q.key = req.matches[1];
    ask(res, "application/json", observe_atom::value, q);
    if (res.status == 200 && res.body == "null")
      throw http_error(404, "no schedule named " + q.key);
  }));
  // Known paths answer other methods with 405; everything else is 404.
  static const std::regex get_paths{
    R"(/|/livez|/health|/metrics|/workers|/cluster|/dead-jobs|/running|/queues(/[^/]+/(pause|resume|limits))?|/jobs(/[^/]+)?|/runs(/[^/]+)?|/schedules)"};
  static const std::regex post_paths{R"(/jobs|/jobs/[^/]+/(retry|cancel)|/runs|/runs/[^/]+/retry)"
                                     R"(|/workers/[^/]+/drain)"
                                     R"(|/schedules|/schedules/[^/]+/(pause|resume|remove))"};
  auto fallback = [](const httplib::Request& req, httplib::Response& res) {
    bool known = std::regex_match(req.path, get_paths) || std::regex_match(req.path, post_paths);
    if (known)
      send_error(res, 405, "method " + req.method + " not allowed on " + req.path);
    else
      send_error(res, 404, "no such endpoint: " + req.path);
  };
  server.Get(".*", fallback);
  server.Post(".*", fallback);
  server.Put(".*", fallback);
  server.Delete(".*", fallback);
  server.Patch(".*", fallback);
}

} // namespace leasehold
