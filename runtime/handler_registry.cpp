#include "runtime/handler_registry.hpp"

#include "runtime/progress_board.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace leasehold {

job_context::job_context(const claimed_job& job, const std::string& worker_id,
                         std::shared_ptr<const std::atomic<bool>> cancel_flag,
                         input_limits limits, progress_board* progress)
  : job_(job), worker_id_(worker_id), cancel_flag_(std::move(cancel_flag)),
    limits_(limits), progress_(progress) {}

void job_context::progress(double value, const std::string& message) {
  if (progress_ != nullptr)
    progress_->report({job_.id, job_.attempt}, value, message);
}

const nlohmann::json& job_context::payload() const {
  // The text comes from a jsonb column, so it parses.
  if (!payload_)
    payload_ = nlohmann::json::parse(job_.payload);
  return *payload_;
}

bool job_context::sleep_for(std::chrono::milliseconds d) const {
  // Short slices keep cancellation latency low without a condition variable.
  constexpr auto slice = std::chrono::milliseconds{10};
  auto deadline = std::chrono::steady_clock::now() + d;
  while (!cancelled()) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds::zero())
      return true;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(left, slice));
  }
  return false;
}

void job_context::enqueue(const std::string& type,
                          const nlohmann::json& payload,
                          const std::string& queue, int32_t priority,
                          int32_t max_attempts) {
  child_spec child;
  child.type = type;
  child.payload = payload;
  child.queue = queue;
  child.priority = priority;
  child.max_attempts = max_attempts;
  enqueue(child);
}

void job_context::enqueue(const child_spec& child) {
  const auto& [type, payload, queue, priority, max_attempts, unique_key, unique_while,
               unique_for] = child;
  // Checked here, while the handler can still be told: a child the table
  // refuses would otherwise fail the whole completion write.
  ++children_asked_;
  child_job c;
  try {
    check_name("type", type);
    if (!queue.empty())
      check_name("queue", queue);
    if (priority < min_priority || priority > max_priority)
      throw std::invalid_argument("\"priority\" must be from " + std::to_string(min_priority)
                                  + " to " + std::to_string(max_priority) + ", not "
                                  + std::to_string(priority));
    if (max_attempts < 0 || max_attempts > 1000000)
      throw std::invalid_argument("\"max_attempts\" must be 0 (the default) or 1 to 1000000,"
                                  " not " + std::to_string(max_attempts));
    c.payload = payload.is_null() ? "{}" : payload_from_json(payload, limits_);
    if (!unique_key.empty())
      check_name("unique_key", unique_key);
    if (!unique_while.empty() && unique_while != "queued" && unique_while != "active"
        && unique_while != "any")
      throw std::invalid_argument("\"unique_while\" must be queued, active or any");
    if (unique_key.empty() && (!unique_while.empty() || unique_for.count() != 0))
      throw std::invalid_argument("\"unique_while\" and \"unique_for\" need a unique_key");
    if (unique_for.count() < 0)
      throw std::invalid_argument("\"unique_for\" must not be negative");
  } catch (const std::invalid_argument& e) {
    auto why = "invalid child job #" + std::to_string(children_asked_) + ": " + e.what();
    if (child_error_.empty())
      child_error_ = why;
    throw std::invalid_argument(why);
  }
  c.type = type;
  c.queue = queue;
  c.priority = priority;
  c.max_attempts = max_attempts;
  c.unique_key = unique_key;
  c.unique_while = unique_while;
  c.unique_for_ms = unique_for.count();
  children_.push_back(std::move(c));
}

void handler_registry::add(const std::string& type, handler_fn fn,
                           handler_mode mode, std::chrono::milliseconds timeout) {
  handlers_[type] = {std::move(fn), mode, timeout};
}

const registered_handler* handler_registry::find(const std::string& type) const {
  auto i = handlers_.find(type);
  return i == handlers_.end() ? nullptr : &i->second;
}

std::vector<std::string> handler_registry::types() const {
  std::vector<std::string> out;
  for (const auto& kv : handlers_)
    out.push_back(kv.first);
  return out;
}

void add_builtin_handlers(handler_registry& registry) {
  registry.add(
    "noop", [](job_context&) { return handler_result::success(); },
    handler_mode::non_blocking);
  registry.add("sleep", [](job_context& ctx) {
    const auto& p = ctx.payload();
    if (!p.is_object() || !p.contains("ms") || !p["ms"].is_number_integer()
        || p["ms"].get<int64_t>() < 0)
      return handler_result::invalid(
        "sleep needs a payload like {\"ms\": 250} (non-negative integer)");
    // A long sleep reports its progress every quarter second; a short one
    // (a benchmark's 10 ms) never does.
    constexpr int64_t report_every_ms = 250;
    const auto total = p["ms"].get<int64_t>();
    for (int64_t slept = 0; slept < total;) {
      auto chunk = std::min(report_every_ms, total - slept);
      if (!ctx.sleep_for(std::chrono::milliseconds{chunk}))
        return handler_result::failure("cancelled");
      slept += chunk;
      if (slept < total)
        ctx.progress(100.0 * static_cast<double>(slept) / static_cast<double>(total),
                     "slept " + std::to_string(slept) + " of " + std::to_string(total)
                       + " ms");
    }
    return handler_result::success();
  });
  // Succeeds with its payload as the attempt's output.
  registry.add(
    "echo", [](job_context& ctx) { return handler_result::success(ctx.payload()); },
    handler_mode::non_blocking);
  // Enqueues {"children": N} children (at most 100) of {"type": T} (noop by
  // default) with {"payload": P}: for demos and the chaos suite.
  registry.add("fanout", [](job_context& ctx) {
    const auto& p = ctx.payload();
    auto n = p.is_object() ? p.value("children", 0) : 0;
    if (!p.is_object() || n < 1 || n > 100)
      return handler_result::invalid(
        "fanout needs a payload like {\"children\": 3, \"type\": \"noop\"}");
    auto type = p.value("type", std::string{"noop"});
    auto payload = p.contains("payload") ? p["payload"] : nlohmann::json::object();
    for (int i = 0; i < n; ++i)
      ctx.enqueue(type, payload);
    return handler_result::success();
  }, handler_mode::non_blocking);
  registry.add("fail", [](job_context& ctx) {
    const auto& p = ctx.payload();
    if (p.is_object() && p.contains("message") && p["message"].is_string())
      return handler_result::failure(p["message"].get<std::string>());
    return handler_result::failure("failed on purpose");
  }, handler_mode::non_blocking);
}

} // namespace leasehold
