#include "runtime/queue_limits.hpp"

#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/duration.hpp"

namespace leasehold {

namespace {

[[noreturn]] void refuse(const std::string& why) { throw std::invalid_argument(why); }

// A count limit: a whole number from 1 to 1,000,000; 0 or null removes it.
nlohmann::json count_limit(const char* name, const nlohmann::json& v) {
  if (v.is_null())
    return nullptr;
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 1000000)
    refuse(std::string{name} + " must be from 1 to 1000000, or 0 to remove the limit");
  return v.get<int64_t>() == 0 ? nlohmann::json(nullptr) : v;
}

// "10/s", "600/min", "5/500ms": jobs per period.
nlohmann::json parse_rate(const std::string& text) {
  auto slash = text.find('/');
  auto digits = text.substr(0, slash);
  if (slash == std::string::npos || digits.empty() || digits.size() > 10
      || digits.find_first_not_of("0123456789") != std::string::npos)
    refuse("rate must be JOBS/PERIOD (10/s, 600/min, 5/500ms) or none");
  auto jobs = std::stoll(digits);
  if (jobs < 1 || jobs > 1000000000)
    refuse("rate: jobs must be from 1 to 1000000000");
  static const std::map<std::string, std::string> units = {
    {"s", "1s"}, {"sec", "1s"}, {"second", "1s"}, {"m", "1m"}, {"min", "1m"},
    {"minute", "1m"}, {"h", "1h"}, {"hour", "1h"}};
  auto period_text = text.substr(slash + 1);
  auto unit = units.find(period_text);
  std::chrono::milliseconds period;
  try {
    period = parse_duration(unit != units.end() ? unit->second : period_text);
  } catch (const std::invalid_argument& e) {
    refuse(std::string{"rate: period: "} + e.what());
  }
  if (period.count() < 10 || period > std::chrono::hours(24 * 366))
    refuse("rate: the period must be from 10ms to a year");
  return {{"jobs", jobs}, {"period", std::to_string(period.count()) + " milliseconds"}};
}

} // namespace

std::string checked_queue_limits(const nlohmann::json& asked) {
  if (!asked.is_object())
    refuse("limits must be a JSON object");
  static const char* known[] = {"concurrency", "per_key", "rate", "burst"};
  for (const auto& item : asked.items())
    if (std::find(std::begin(known), std::end(known), item.key()) == std::end(known))
      refuse("unknown limit \"" + item.key().substr(0, 40)
             + "\" (concurrency, per_key, rate, burst)");
  nlohmann::json limits = nlohmann::json::object();
  if (asked.contains("concurrency"))
    limits["concurrency"] = count_limit("concurrency", asked["concurrency"]);
  if (asked.contains("per_key"))
    limits["per_key"] = count_limit("per_key", asked["per_key"]);
  if (asked.contains("rate")) {
    const auto& r = asked["rate"];
    if (r.is_null() || r == "none" || r == "0") {
      limits["rate"] = nullptr;
    } else if (r.is_string()) {
      limits["rate"] = parse_rate(r.get<std::string>());
    } else {
      refuse("rate must be a string JOBS/PERIOD (10/s) or null");
    }
  }
  if (asked.contains("burst")) {
    if (!limits.contains("rate") || limits["rate"].is_null())
      refuse("burst needs a rate");
    const auto& b = asked["burst"];
    if (!b.is_number_integer() || b.get<int64_t>() < 1 || b.get<int64_t>() > 1000000000)
      refuse("burst must be from 1 to 1000000000");
    limits["rate"]["burst"] = b;
  }
  if (limits.empty())
    refuse("no limit given: concurrency, per_key or rate");
  return limits.dump();
}

std::string queue_limits_text(const nlohmann::json& q, bool all) {
  std::vector<std::string> parts;
  auto has = [&](const char* key) { return q.contains(key) && !q[key].is_null(); };
  if (has("concurrency"))
    parts.push_back("at most " + q["concurrency"].dump() + " jobs held at once across all nodes");
  else if (all)
    parts.push_back("no concurrency limit");
  if (has("per_key"))
    parts.push_back("at most " + q["per_key"].dump() + " per concurrency key");
  else if (all)
    parts.push_back("1 per concurrency key");
  if (has("rate")) {
    std::ostringstream r;
    r << "at most " << q["rate"].dump() << " started per " << q["rate_period_seconds"].dump()
      << " s, burst " << q["burst"].dump();
    if (has("tokens"))
      r << " (" << q["tokens"].dump() << " may start now)";
    parts.push_back(r.str());
  } else if (all) {
    parts.push_back("no rate limit");
  }
  std::string out;
  for (const auto& p : parts)
    out += (out.empty() ? "" : "; ") + p;
  return out.empty() ? "-" : out;
}

} // namespace leasehold
