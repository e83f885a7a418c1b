// The store's schedules (migration 018): adding, listing, pausing and
// removing them, and the scheduler's pass that enqueues due ticks. Time is
// the database's: every tick is computed from its now(), in the schedule's
// zone, so nodes with skewed clocks agree.
#include "persistence/store.hpp"

#include <nlohmann/json.hpp>

#include "persistence/store_internal.hpp"
#include "runtime/cron.hpp"

namespace leasehold {

namespace {

cron_expr parse_cron(const std::string& text) {
  try {
    return cron_expr::parse(text);
  } catch (const std::invalid_argument& e) {
    throw store_invalid_input(std::string{"cron: "} + e.what());
  }
}

// A tick as schedule_*.sql take it: a timestamp in the zone, or for @every,
// milliseconds since the epoch.
struct tick_text {
  std::string text;
  bool epoch_ms = false;
};

// The first tick strictly after the clock reading (now_local, now_ms).
tick_text first_tick_after(const cron_expr& cron, const std::string& now_local,
                           int64_t now_ms, const std::string& name) {
  if (auto every = cron.every()) {
    auto p = every->count();
    return {std::to_string((now_ms / p + 1) * p), true};
  }
  auto next = cron.next_after(civil_time::parse(now_local));
  if (!next)
    throw store_invalid_input("schedule " + name + ": its cron expression never matches");
  return {next->text(), false};
}

std::pair<std::string, int64_t> clock_in(pqxx::transaction_base& tx, const std::string& tz) {
  auto row = tx.exec_prepared1("schedule_clock", tz);
  return {row[0].as<std::string>(), row[1].as<int64_t>()};
}

// The ticks of one due schedule that its catch-up policy enqueues, and
// where it goes on from.
struct due_ticks {
  std::vector<std::string> enqueue;
  int64_t skipped = 0;
  tick_text next;
};

constexpr size_t max_ticks_per_pass = 1000;

due_ticks ticks_of(const cron_expr& cron, const std::string& catch_up,
                   const std::string& next_local, int64_t next_ms,
                   const std::string& now_local, int64_t now_ms,
                   std::chrono::milliseconds on_time, const std::string& name) {
  due_ticks d;
  // The ticks from next_tick_at up to now: the first max_ticks_per_pass of
  // them (for "all"), how many in all, and the latest, which is not among
  // the first after a long outage or clock jump.
  std::vector<std::string> missed;
  int64_t total = 0;
  std::string latest;
  int64_t last_ms = 0; // the latest, since the epoch
  if (auto every = cron.every()) {
    auto p = every->count();
    for (auto t = next_ms; t <= now_ms && missed.size() < max_ticks_per_pass; t += p)
      missed.push_back(std::to_string(t));
    if (next_ms <= now_ms) {
      total = (now_ms - next_ms) / p + 1;
      last_ms = next_ms + (total - 1) * p;
      latest = std::to_string(last_ms);
    }
    d.next = {std::to_string((now_ms / p + 1) * p), true};
  } else {
    auto now = civil_time::parse(now_local);
    std::optional<civil_time> t = civil_time::parse(next_local);
    // Walked one by one (cron ticks are minutes apart at least): a million
    // steps cover two years of a per-minute schedule in about a second.
    constexpr int64_t max_steps = 1000000;
    for (; t && *t <= now && total < max_steps; t = cron.next_after(*t)) {
      if (missed.size() < max_ticks_per_pass)
        missed.push_back(t->text());
      latest = t->text();
      ++total;
    }
    d.next = first_tick_after(cron, now_local, now_ms, name);
    // How late the latest tick is, in the zone's wall clock (a DST change
    // shifts it by an hour at most; the grace only tells "on time" apart).
    if (total > 0)
      last_ms = now_ms - (now.seconds() - civil_time::parse(latest).seconds()) * 1000;
  }
  if (total == 0)
    return d;
  const bool latest_on_time = now_ms - last_ms <= on_time.count();
  if (catch_up == "all") {
    // Up to max_ticks_per_pass; the rest are skipped.
    d.skipped = total - static_cast<int64_t>(missed.size());
    d.enqueue = std::move(missed);
  } else if (catch_up == "one" || latest_on_time) {
    // "one": the latest missed tick stands for them all; "none": only a
    // tick that is on time, none of those an outage missed.
    d.skipped = total - 1;
    d.enqueue.push_back(latest);
  } else {
    d.skipped = total;
  }
  return d;
}

} // namespace

void store::add_schedule(const schedule_spec& s) {
  auto cron = parse_cron(s.cron);
  if (s.catch_up != "none" && s.catch_up != "one" && s.catch_up != "all")
    throw store_invalid_input("catch-up must be none, one or all, not '" + s.catch_up + "'");
  translate_errors("schedule_insert", [&] {
    pqxx::work tx{impl_->conn};
    auto [now_local, now_ms] = clock_in(tx, s.tz);
    auto first = first_tick_after(cron, now_local, now_ms, s.name);
    std::string first_at =
      first.epoch_ms ? tx.exec_params1("SELECT to_timestamp($1::bigint / 1000.0)::text",
                                       first.text)[0].as<std::string>()
                     : tx.exec_params1("SELECT ($1::timestamp AT TIME ZONE $2)::text",
                                       first.text, s.tz)[0].as<std::string>();
    auto rows = tx.exec_prepared("schedule_insert", s.name, s.cron, s.tz, s.type, s.payload,
                                 s.queue, s.priority, s.max_attempts, s.catch_up, first_at);
    if (rows.empty())
      throw store_invalid_input("schedule " + s.name + " already exists");
    tx.commit();
    return 0;
  });
}

bool store::remove_schedule(const std::string& name) {
  return translate_errors("schedule_remove", [&] {
    pqxx::work tx{impl_->conn};
    auto r = tx.exec_params("DELETE FROM leasehold.schedules WHERE name = $1", name);
    tx.commit();
    return r.affected_rows() == 1;
  });
}

bool store::set_schedule_paused(const std::string& name, bool paused) {
  return translate_errors("schedule_pause", [&] {
    pqxx::work tx{impl_->conn};
    auto rows = tx.exec_params("SELECT cron, tz FROM leasehold.schedules WHERE name = $1"
                               " FOR UPDATE", name);
    if (rows.empty())
      return false;
    if (paused) {
      tx.exec_params("UPDATE leasehold.schedules SET paused = true, updated_at = now()"
                     " WHERE name = $1", name);
    } else {
      // Resumed: the ticks that fell while it was paused are not owed.
      auto cron = parse_cron(rows[0][0].as<std::string>());
      auto tz = rows[0][1].as<std::string>();
      auto [now_local, now_ms] = clock_in(tx, tz);
      auto next = first_tick_after(cron, now_local, now_ms, name);
      tx.exec_prepared("schedule_advance", name, next.text, tz, next.epoch_ms, 0,
                       std::optional<int64_t>{}, std::optional<std::string>{}, 0);
      tx.exec_params("UPDATE leasehold.schedules SET paused = false WHERE name = $1", name);
    }
    tx.commit();
    return true;
  });
}

std::string store::schedules_json(std::chrono::milliseconds late_after) {
  return read_json(impl_->conn, "schedule_list", static_cast<int64_t>(late_after.count()));
}

schedule_pass store::enqueue_due_schedules(std::chrono::milliseconds on_time) {
  return translate_errors("schedule_due", [&] {
    schedule_pass pass;
    pqxx::work tx{impl_->conn};
    for (const auto& row : tx.exec_prepared("schedule_due", int64_t{50})) {
      auto name = row["name"].as<std::string>();
      auto tz = row["tz"].as<std::string>();
      cron_expr cron;
      try {
        cron = cron_expr::parse(row["cron"].as<std::string>());
      } catch (const std::invalid_argument&) {
        pass.failed.push_back(name); // edited by hand into nonsense: left due
        continue;
      }
      auto d = ticks_of(cron, row["catch_up"].as<std::string>(),
                        row["next_local"].as<std::string>(), row["next_ms"].as<int64_t>(),
                        row["now_local"].as<std::string>(), row["now_ms"].as<int64_t>(),
                        on_time, name);
      int64_t created = 0;
      std::optional<int64_t> last_id;
      std::optional<std::string> last_at;
      if (!d.enqueue.empty()) {
        for (const auto& r : tx.exec_prepared("schedule_enqueue_ticks", name,
                                              nlohmann::json(d.enqueue).dump(), tz,
                                              d.next.epoch_ms)) {
          created += r[1].as<bool>() ? 0 : 1;
          last_id = r[0].as<int64_t>();
          last_at = r[2].as<std::string>();
        }
      }
      tx.exec_prepared("schedule_advance", name, d.next.text, tz, d.next.epoch_ms, created,
                       last_id, last_at, d.skipped);
      pass.enqueued += created;
      pass.skipped += d.skipped;
    }
    tx.commit();
    return pass;
  });
}

} // namespace leasehold
