// Slow and half-open HTTP clients against a real `leasehold node` process:
// while hundreds of connections trickle a byte at a time, send nothing, or
// never read their answers, the node keeps answering a normal client at
// once, keeps running jobs, and cuts the slow ones off.
#include <httplib.h>

#include <atomic>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/hostile_node.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

int64_t ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

// A normal client: a fresh connection per request, a 3s timeout.
struct prober {
  explicit prober(int p) : port(p) {}
  int port;
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, failed{0}, created{0};
  std::atomic<int64_t> slowest_ms{0};
  std::string failures;
  std::mutex mutex;

  void note(const std::string& what, clock_type::time_point started, bool ok) {
    auto ms = ms_since(started);
    if (ms > slowest_ms)
      slowest_ms = ms;
    (ok ? answered : failed)++;
    if (!ok) {
      std::lock_guard<std::mutex> lock{mutex};
      failures += what + " after " + std::to_string(ms) + "ms; ";
    }
  }

  void run() {
    while (!stop) {
      for (const char* path : {"/livez", "/health"}) {
        httplib::Client c{"127.0.0.1", port};
        c.set_connection_timeout(3);
        c.set_read_timeout(3);
        auto started = clock_type::now();
        auto r = c.Get(path);
        note(path, started, r && r->status == 200);
      }
      httplib::Client c{"127.0.0.1", port};
      c.set_connection_timeout(3);
      c.set_read_timeout(3);
      auto started = clock_type::now();
      auto r = c.Post("/jobs", {{"Authorization", std::string{"Bearer "} + hostile_token}},
                      R"({"type":"sleep","payload":{"ms":20}})", "application/json");
      note("POST /jobs", started, r && r->status == 201);
      if (r && r->status == 201)
        ++created;
      std::this_thread::sleep_for(100ms);
    }
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(slow_http_clients, hostile_node)

// Found here: 8 threads served every connection and a client trickling a
// byte per 500ms was never cut off, so 100 of them stopped the bridge; and
// with httplib's listen backlog of 5 a burst of connections had some
// dropped, their clients retrying a second later.
BOOST_AUTO_TEST_CASE(slow_and_half_open_clients_do_not_stop_the_node) {
  start();
  enqueue_sleeps(db, 40, 100);
  prober p{port};
  std::thread probe{[&] { p.run(); }};
  // The attack arrives while the prober asks: 330 connections at once.
  auto burst = clock_type::now();
  std::vector<std::unique_ptr<raw_connection>> trickling, silent, deaf;
  for (int i = 0; i < 150; ++i) {
    trickling.push_back(std::make_unique<raw_connection>(port));
    trickling.back()->send("GET /health HTTP/1.1\r\nX-Slow: ");
    silent.push_back(std::make_unique<raw_connection>(port));
  }
  // Clients that ask for the dashboard again and again and never read it.
  std::string ask_page;
  for (int i = 0; i < 200; ++i)
    ask_page += "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 30; ++i) {
    deaf.push_back(std::make_unique<raw_connection>(port));
    deaf.back()->send(ask_page, 200ms);
  }
  auto connected_ms = ms_since(burst);
  auto started = clock_type::now();
  size_t cut = 0;
  while (ms_since(started) < 12000) {
    for (auto& c : trickling)
      if (c && c->send("a", 10ms) == 0)
        ++cut, c.reset(); // the node closed it
    std::this_thread::sleep_for(500ms);
  }
  auto done_in_attack = succeeded();
  p.stop = true;
  probe.join();
  // Each is cut within 10s of getting a thread, without contention too.
  while (cut < trickling.size() && ms_since(started) < 20000) {
    for (auto& c : trickling)
      if (c && c->send("a", 10ms) == 0)
        ++cut, c.reset();
    std::this_thread::sleep_for(500ms);
  }
  BOOST_TEST_MESSAGE("answered " << p.answered << ", failed " << p.failed << ", slowest "
                                 << p.slowest_ms << "ms, trickling cut " << cut
                                 << " of 150, jobs done during the attack " << done_in_attack
                                 << ", 330 connections in " << connected_ms << "ms");
  BOOST_TEST(p.failed == 0, p.failures);
  BOOST_TEST(p.answered > 50);
  BOOST_TEST(connected_ms < 900, "330 connections took " << connected_ms
                                  << "ms: some were dropped and retried after 1s");
  BOOST_TEST(p.slowest_ms < 2000);
  BOOST_TEST(cut == 150u, "the node cut off " << cut << " of 150 trickling clients in 20s");
  BOOST_TEST(done_in_attack >= 40 + p.created / 2, done_in_attack << " of " << 40 + p.created
                                                                   << " jobs done in the attack");
  BOOST_TEST(wait_until([&] { return succeeded() >= 40 + p.created; }, 10s),
             succeeded() << " of " << 40 + p.created << " jobs succeeded");
  BOOST_TEST(alive());
  // The silent ones were closed too, and a normal request still works.
  size_t closed = 0;
  for (auto& c : silent)
    closed += c->closed_by_peer(100ms) ? 1 : 0;
  BOOST_TEST(closed == silent.size(), closed << " of " << silent.size() << " silent closed");
  BOOST_TEST(raw_request(port, "GET /livez HTTP/1.1\r\n\r\n").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
