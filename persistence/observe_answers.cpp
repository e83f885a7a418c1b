// The observer's reads and operators' writes, answered from the store on
// the persistence actor's connection.
#include "persistence/observe_answers.hpp"

#include <nlohmann/json.hpp>

#include "runtime/bulk_file.hpp"
#include "runtime/defaults.hpp"

namespace leasehold {

namespace {

std::string change_json(const std::optional<job_change>& c) {
  if (!c)
    return "null";
  nlohmann::json j{{"previous_status", c->previous_status}, {"changed", c->changed}};
  if (!c->owner.empty())
    j["owner"] = c->owner;
  return j.dump();
}

std::optional<std::string> optional_text(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>{s};
}

// Runs a parser of client input; what it rejects is invalid input (HTTP 400),
// not an internal error.
template <class F>
auto parse_input(F&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const std::invalid_argument& e) {
    throw store_invalid_input(e.what());
  }
}

} // namespace

std::string answer_observe(store& db, const observe_request& req, const input_limits& limits) {
  if (req.what == "health")
    return db.health_json(req.thresholds);
  if (req.what == "dead_jobs")
    return db.dead_jobs_json({req.limit, req.since_hours, optional_text(req.type),
                              optional_text(req.correlation_id)});
  if (req.what == "queues")
    return db.queues_json();
  if (req.what == "queue_limits") {
    parse_input([&] { check_name("queue", req.key); return 0; });
    return db.set_queue_limits(req.key, req.body); // checked by the HTTP bridge
  }
  if (req.what == "queue_pause" || req.what == "queue_resume") {
    parse_input([&] { check_name("queue", req.key); return 0; });
    return db.set_queue_paused(req.key, req.what == "queue_pause");
  }
  if (req.what == "running")
    return db.running_json(req.limit);
  if (req.what == "job")
    return db.job_json(req.id).value_or("null");
  if (req.what == "chain")
    return db.chain_json(req.correlation_id);
  if (req.what == "drain")
    return db.request_drain(req.key) ? "true" : "null";
  if (req.what == "instance_endpoint")
    return db.set_instance_endpoint(req.key, req.body) ? "true" : "false";
  if (req.what == "workers")
    return db.instances_json(false);
  if (req.what == "queue_depth")
    return db.queue_depth_json();
  if (req.what == "retry")
    return change_json(db.retry_job(req.id));
  if (req.what == "cancel")
    return change_json(db.cancel_job(req.id));
  if (req.what == "runs")
    return db.runs_json(req.limit);
  if (req.what == "run")
    return db.run_json(req.id, true).value_or("null");
  if (req.what == "run_create") {
    auto spec = parse_input([&] { return parse_run_object(req.body, limits); });
    return nlohmann::json{{"id", db.create_run(spec)}}.dump();
  }
  if (req.what == "run_retry") {
    auto keys = db.retry_run(req.id, optional_text(req.key));
    return keys ? nlohmann::json{{"retried", *keys}}.dump() : "null";
  }
  if (req.what == "schedules")
    return db.schedules_json(defaults::schedule_late);
  if (req.what == "schedule_create") {
    auto spec = parse_input([&] { return parse_schedule_object(req.body, limits); });
    db.add_schedule(spec);
    return nlohmann::json{{"name", spec.name}}.dump();
  }
  if (req.what == "schedule_pause" || req.what == "schedule_resume"
      || req.what == "schedule_remove") {
    bool found = req.what == "schedule_remove"
                   ? db.remove_schedule(req.key)
                   : db.set_schedule_paused(req.key, req.what == "schedule_pause");
    return found ? nlohmann::json{{"name", req.key}, {"done", req.what.substr(9)}}.dump()
                 : "null";
  }
  if (req.what == "enqueue") {
    auto job = parse_input([&] { return parse_job_object(req.body, limits); });
    // An Idempotency-Key header (req.key) holds the job's key for good: a
    // client that retries after a timeout gets the first job back.
    if (!req.key.empty())
      parse_input([&] {
        if (job.unique_key)
          throw std::invalid_argument("give either an Idempotency-Key header or a"
                                      " \"unique_key\", not both");
        set_unique(job, "idempotency:" + req.key, std::string{"any"}, std::nullopt,
                   {"Idempotency-Key", "unique_while", "unique_for"});
        return 0;
      });
    auto result = db.enqueue_one(job);
    return nlohmann::json{{"id", result.id}, {"duplicate", result.duplicate}}.dump();
  }
  throw store_error("unknown observe request '" + req.what + "'");
}


} // namespace leasehold
