// Unique jobs (migration 017): at most one job holds a key, enforced by the
// database, so concurrent enqueues from many clients create one job. Each
// mode's lifetime, windows, give-backs, children, HTTP (unique_key and the
// Idempotency-Key header), the CLI and the SQL functions in the caller's
// own transaction. Real Postgres, real nodes.
#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

new_job keyed(const std::string& type, const std::string& key,
              std::optional<std::string> mode = std::nullopt,
              std::optional<int64_t> for_ms = std::nullopt) {
  new_job j;
  j.type = type;
  j.unique_key = key;
  j.unique_while = std::move(mode);
  j.unique_for_ms = for_ms;
  return j;
}

std::string sleep_ms(int ms) { return R"({"ms":)" + std::to_string(ms) + "}"; }

struct unique_fixture : pg_fixture {
  int64_t jobs_with_key(const std::string& key) {
    return count("SELECT count(*) FROM leasehold.jobs WHERE unique_key = '" + key + "'");
  }

  bool wait_until_running(int64_t id) {
    return wait_until([&] {
      return value("SELECT status FROM leasehold.jobs WHERE id = " + std::to_string(id))
             == "running";
    }, 5s);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(unique_jobs, unique_fixture)

BOOST_AUTO_TEST_CASE(a_duplicate_returns_the_holder_in_every_mode) {
  for (std::string mode : {"queued", "active", "any"}) {
    auto first = db.enqueue_one(keyed("noop", "k-" + mode, mode));
    auto second = db.enqueue_one(keyed("noop", "k-" + mode, mode));
    BOOST_TEST(!first.duplicate);
    BOOST_TEST(second.duplicate, mode);
    BOOST_TEST(second.id == first.id, mode);
    BOOST_TEST(jobs_with_key("k-" + mode) == 1, mode);
  }
  // No key: never a duplicate.
  BOOST_TEST(!db.enqueue_one(new_job{"noop"}).duplicate);
  BOOST_TEST(!db.enqueue_one(new_job{"noop"}).duplicate);
}

BOOST_AUTO_TEST_CASE(an_active_key_is_held_while_running_and_freed_when_the_job_succeeds) {
  auto job = keyed("sleep", "report-7");
  job.payload = sleep_ms(600);
  auto first = db.enqueue_one(job);
  node n{fast_node_config(), builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until_running(first.id));
  auto while_running = db.enqueue_one(job);
  BOOST_TEST(while_running.duplicate);
  BOOST_TEST(while_running.id == first.id);
  BOOST_REQUIRE(wait_until([&] { return succeeded() == 1; }, 5s));
  n.stop();
  auto after = db.enqueue_one(job);
  BOOST_TEST(!after.duplicate);
  BOOST_TEST(after.id != first.id);
}

BOOST_AUTO_TEST_CASE(a_queued_key_is_freed_when_the_job_starts_and_not_taken_back_by_a_retry) {
  auto job = keyed("sleep", "refresh", "queued");
  job.payload = sleep_ms(600);
  auto first = db.enqueue_one(job);
  BOOST_TEST(db.enqueue_one(job).duplicate);
  node n{fast_node_config(), builtin_handlers()};
  n.start();
  BOOST_REQUIRE(wait_until_running(first.id));
  auto next = db.enqueue_one(job);
  BOOST_TEST(!next.duplicate);
  BOOST_TEST(next.id != first.id);
  n.stop();
  // A failed attempt going back to the queue does not take the key again.
  auto flaky = keyed("fail", "flaky", "queued");
  flaky.max_attempts = 3;
  auto f = db.enqueue_one(flaky);
  db.execute("UPDATE leasehold.jobs SET status = 'queued', attempts = 1,"
             " run_at = now() + interval '1 hour' WHERE id = " + std::to_string(f.id));
  BOOST_TEST(!db.enqueue_one(flaky).duplicate);
}

BOOST_AUTO_TEST_CASE(an_any_key_outlives_the_job_that_succeeded) {
  auto first = db.enqueue_one(keyed("noop", "invoice-42", "any"));
  BOOST_REQUIRE(run_until_succeeded(fast_node_config(), builtin_handlers(), 1, 10s));
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 0); // it left for job_runs
  auto again = db.enqueue_one(keyed("noop", "invoice-42", "any"));
  BOOST_TEST(again.duplicate);
  BOOST_TEST(again.id == first.id);
}

BOOST_AUTO_TEST_CASE(unique_for_holds_the_key_for_its_window_only) {
  // Start just after a 1s window begins, so two enqueues fall in it.
  BOOST_REQUIRE(wait_until([&] {
    return std::stod(value("SELECT extract(epoch FROM clock_timestamp())"
                           " - floor(extract(epoch FROM clock_timestamp()))")) < 0.3;
  }, 3s));
  auto first = db.enqueue_one(keyed("noop", "digest", std::nullopt, 1000));
  auto same_window = db.enqueue_one(keyed("noop", "digest", std::nullopt, 1000));
  BOOST_TEST(same_window.duplicate);
  BOOST_TEST(same_window.id == first.id);
  std::this_thread::sleep_for(1100ms);
  auto next_window = db.enqueue_one(keyed("noop", "digest", std::nullopt, 1000));
  BOOST_TEST(!next_window.duplicate);
  BOOST_TEST(value("SELECT unique_key FROM leasehold.jobs WHERE id = "
                   + std::to_string(first.id)).rfind("digest@", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(concurrent_duplicate_enqueues_from_twenty_connections_create_one_job) {
  constexpr int clients = 20;
  std::vector<std::unique_ptr<store>> stores;
  for (int c = 0; c < clients; ++c)
    stores.push_back(std::make_unique<store>(test_dsn()));
  for (int round = 0; round < 12; ++round) {
    const std::string mode = round % 3 == 0 ? "queued" : round % 3 == 1 ? "active" : "any";
    const auto key = "race-" + std::to_string(round);
    std::atomic<int> ready{0};
    std::vector<enqueued> results(clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&, c] {
        ++ready;
        while (ready.load() < clients) {
        }
        results[c] = stores[c]->enqueue_one(keyed("noop", key, mode));
      });
    for (auto& t : threads)
      t.join();
    std::set<int64_t> ids;
    int created = 0;
    for (const auto& r : results) {
      ids.insert(r.id);
      created += r.duplicate ? 0 : 1;
    }
    BOOST_TEST(created == 1, key << " " << mode);
    BOOST_TEST(ids.size() == 1u, key << " " << mode);
    BOOST_TEST(jobs_with_key(key) == 1, key << " " << mode);
  }
}

BOOST_AUTO_TEST_CASE(a_given_back_job_does_not_collide_with_the_new_holder_of_its_key) {
  register_worker(db, "w-giveback");
  auto first = db.enqueue_one(keyed("noop", "sync", "queued"));
  auto claimed = db.claim("w-giveback", "default", 1, {"noop"});
  BOOST_REQUIRE(claimed.size() == 1u);
  auto second = db.enqueue_one(keyed("noop", "sync", "queued")); // the key was free
  BOOST_REQUIRE(!second.duplicate);
  auto back = db.unclaim("w-giveback", {{first.id, claimed[0].attempt}});
  BOOST_TEST(back.size() == 1u);
  BOOST_TEST(value("SELECT status || ':' || coalesce(unique_key, '-') FROM leasehold.jobs"
                   " WHERE id = " + std::to_string(first.id)) == "queued:-");
  BOOST_TEST(value("SELECT unique_key FROM leasehold.jobs WHERE id = "
                   + std::to_string(second.id)) == "sync");
  // Without a rival, a given-back job keeps its key.
  auto third = db.enqueue_one(keyed("noop", "alone", "queued"));
  db.execute("DELETE FROM leasehold.jobs WHERE id = " + std::to_string(second.id)
             + " OR id = " + std::to_string(first.id));
  claimed = db.claim("w-giveback", "default", 1, {"noop"});
  BOOST_REQUIRE(claimed.size() == 1u);
  db.unclaim("w-giveback", {{third.id, claimed[0].attempt}});
  BOOST_TEST(db.enqueue_one(keyed("noop", "alone", "queued")).duplicate);
}

BOOST_AUTO_TEST_CASE(retrying_a_dead_job_whose_key_was_taken_is_refused_not_an_error) {
  auto dead = db.enqueue_one(keyed("noop", "nightly"));
  db.execute("UPDATE leasehold.jobs SET status = 'failed', attempts = 25, finished_at = now()"
             " WHERE id = " + std::to_string(dead.id));
  auto holder = db.enqueue_one(keyed("noop", "nightly")); // the dead job released it
  BOOST_REQUIRE(!holder.duplicate);
  BOOST_CHECK_THROW(db.retry_job(dead.id), store_invalid_input);
  BOOST_TEST(value("SELECT status FROM leasehold.jobs WHERE id = " + std::to_string(dead.id))
             == "failed");
  // Once the holder is gone, the retry goes through.
  db.execute("DELETE FROM leasehold.jobs WHERE id = " + std::to_string(holder.id));
  BOOST_TEST(db.retry_job(dead.id)->changed);
}

BOOST_AUTO_TEST_CASE(children_with_one_key_are_created_once) {
  auto handlers = builtin_handlers();
  handlers->add("parent", [](job_context& ctx) {
    child_spec child;
    child.type = "sleep";
    child.payload = {{"ms", 0}};
    child.unique_key = "rebuild-index";
    ctx.enqueue(child);
    ctx.enqueue(child); // the same key twice in one attempt
    return handler_result::success();
  });
  enqueue(db, "parent");
  enqueue(db, "parent");
  auto cfg = fast_node_config();
  cfg.concurrency = 1; // the second parent's child meets the first's
  BOOST_REQUIRE(run_until_succeeded(cfg, handlers, 3, 10s));
  // Four asked for, one made: the second parent ran while the first's
  // child was still queued or running (active keys), and within one
  // completion the second child met the first.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs WHERE type = 'sleep'") == 1);
}

BOOST_AUTO_TEST_CASE(http_answers_201_for_a_new_job_and_200_for_a_duplicate) {
  auto cfg = fast_node_config();
  cfg.http_token = "tok";
  node n{cfg, std::make_shared<handler_registry>()};
  n.start();
  httplib::Client http{"127.0.0.1", static_cast<int>(n.http_port())};
  auto post = [&](const std::string& body, const std::string& idem = "") {
    httplib::Headers h{{"Authorization", "Bearer tok"}};
    if (!idem.empty())
      h.emplace("Idempotency-Key", idem);
    auto r = http.Post("/jobs", h, body, "application/json");
    BOOST_REQUIRE(r);
    return std::make_pair(r->status, nlohmann::json::parse(r->body, nullptr, false));
  };
  auto a = post(R"({"type":"mail","unique_key":"welcome-9"})");
  auto b = post(R"({"type":"mail","unique_key":"welcome-9"})");
  BOOST_TEST(a.first == 201);
  BOOST_TEST(a.second["duplicate"] == false);
  BOOST_TEST(b.first == 200);
  BOOST_TEST(b.second["duplicate"] == true);
  BOOST_TEST(b.second["id"] == a.second["id"]);
  // A client that retries after a timeout, even with another body.
  auto c = post(R"({"type":"charge","payload":{"cents":500}})", "req-1");
  auto d = post(R"({"type":"charge","payload":{"cents":501}})", "req-1");
  BOOST_TEST(c.first == 201);
  BOOST_TEST(d.first == 200);
  BOOST_TEST(d.second["id"] == c.second["id"]);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE type = 'charge'") == 1);
  // Hostile: both at once, a bad mode or window; nothing written.
  BOOST_TEST(post(R"({"type":"x","unique_key":"k"})", "req-2").first == 400);
  BOOST_TEST(post(R"({"type":"x","unique_key":"k","unique_while":"forever"})").first == 400);
  BOOST_TEST(post(R"({"type":"x","unique_key":"k","unique_for":"soon"})").first == 400);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs WHERE type = 'x'") == 0);
  n.stop();
}

BOOST_AUTO_TEST_CASE(the_cli_prints_the_holder_and_says_duplicate) {
  auto url = test_dsn();
  auto first = run({leasehold_bin(), "--database-url", url, "enqueue", "mail",
                    "--unique-key", "cli-k", "--unique-while", "any"});
  auto second = run({leasehold_bin(), "--database-url", url, "enqueue", "mail",
                     "--unique-key", "cli-k", "--unique-while", "any"});
  BOOST_TEST(first.exit_code == 0);
  BOOST_TEST(second.exit_code == 0);
  auto id = first.out.substr(0, first.out.find('\n'));
  BOOST_TEST(second.out == id + " duplicate: job " + id + " holds unique key cli-k\n");
  for (const auto& bad : std::vector<std::vector<std::string>>{
         {"--unique-key", "k2", "--unique-while", "sometimes"},
         {"--unique-key", "k2", "--unique-for", "0s"},
         {"--unique-key", "k2", "--unique-for", "soon"},
         {"--unique-while", "any"},
         {"--unique-key", std::string("k\x01", 2)}}) {
    std::vector<std::string> argv{leasehold_bin(), "--database-url", url, "enqueue", "mail"};
    argv.insert(argv.end(), bad.begin(), bad.end());
    auto r = run(argv);
    BOOST_TEST(r.exit_code != 0, bad[0]);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 1);
  auto file = "/tmp/leasehold-unique-" + std::to_string(::getpid()) + ".ndjson";
  std::ofstream{file} << R"({"type":"a","unique_key":"f1"})" << "\n"
                      << R"({"type":"a","unique_key":"f1"})" << "\n"
                      << R"({"type":"a","unique_key":"cli-k","unique_while":"any"})" << "\n"
                      << R"({"type":"a"})" << "\n";
  auto bulk = run({leasehold_bin(), "--database-url", url, "enqueue", "--file", file});
  BOOST_TEST(bulk.exit_code == 0);
  BOOST_TEST(bulk.out.find("enqueued 2 jobs") == 0u, bulk.out);
  BOOST_TEST(bulk.out.find("2 duplicates") != std::string::npos, bulk.out);
  std::remove(file.c_str());
}

BOOST_AUTO_TEST_CASE(the_sql_function_enqueues_in_the_callers_transaction) {
  pqxx::connection conn{test_dsn()};
  {
    pqxx::work tx{conn};
    tx.exec("SELECT * FROM leasehold.enqueue('mail', '{\"to\": 1}', unique_key => 'tx-key',"
            " unique_while => 'any')");
    tx.abort(); // a rollback leaves neither the job nor its key
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.jobs") == 0);
  BOOST_TEST(count("SELECT count(*) FROM leasehold.unique_keys") == 0);
  // A committed one wakes an idle node at once, though it polls every 30s.
  auto cfg = fast_node_config();
  cfg.poll_interval = 30s;
  node n{cfg, builtin_handlers()};
  n.start();
  std::this_thread::sleep_for(300ms); // past its first poll: it is idle now
  {
    pqxx::work tx{conn};
    auto r = tx.exec("SELECT id, duplicate FROM leasehold.enqueue('noop',"
                     " unique_key => 'tx-key', unique_while => 'any')");
    tx.exec("SELECT * FROM leasehold.enqueue_many('[{\"type\": \"noop\"},"
            " {\"type\": \"noop\", \"unique_key\": \"tx-key\", \"unique_while\": \"any\"}]')");
    BOOST_TEST(r[0][1].as<bool>() == false);
    tx.commit();
  }
  BOOST_TEST(wait_until([&] { return succeeded() == 2; }, 3s));
  n.stop();
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 2);
  // Bad arguments are one clear error each, and write nothing.
  for (const auto& bad : {"SELECT leasehold.enqueue('noop', unique_while => 'any')",
                          "SELECT leasehold.enqueue('noop', unique_key => 'k', unique_while => 'x')",
                          "SELECT leasehold.enqueue('noop', unique_key => 'k', unique_for => '-1s')",
                          "SELECT leasehold.enqueue_many('{\"type\": \"noop\"}')",
                          "SELECT leasehold.enqueue_many('[{\"type\": \"noop\"}, 5]')"}) {
    pqxx::work tx{conn};
    BOOST_CHECK_THROW(tx.exec(bad), pqxx::data_exception);
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
