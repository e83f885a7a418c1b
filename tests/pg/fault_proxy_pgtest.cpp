// The fault-injecting proxy that partition tests put between a node and
// Postgres: it passes a real Postgres session, holds every byte in a
// blackhole without closing anything, and resets connections with an RST.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <regex>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/support/fault_proxy.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

std::string through(const fault_proxy& proxy, const std::string& option = "") {
  auto url = dsn_with_port(test_dsn(), proxy.port());
  if (option.empty())
    return url;
  return url + (url.find('?') == std::string::npos ? '?' : '&') + option;
}

// A plain TCP connection to the proxy, to see exactly what a peer sees.
int raw_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

bool readable_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(fault_proxy_tool, pg_fixture)

BOOST_AUTO_TEST_CASE(dsn_rewriting) {
  BOOST_TEST(dsn_port("postgresql://postgres@127.0.0.1:55441/leasehold") == 55441);
  BOOST_TEST(dsn_port("postgres://u:p@db/x?sslmode=disable") == 5432);
  BOOST_TEST(dsn_with_port("postgresql://postgres@localhost:55441/leasehold?a=1", 7000)
             == "postgresql://postgres@127.0.0.1:7000/leasehold?a=1");
  BOOST_TEST(dsn_with_port("postgresql://db", 7000) == "postgresql://127.0.0.1:7000");
}

BOOST_AUTO_TEST_CASE(a_blackhole_holds_every_byte_silently_until_it_heals) {
  fault_proxy proxy{dsn_port(test_dsn())};
  store db{through(proxy)};
  BOOST_TEST(db.query_value("SELECT 1").value_or("") == "1");
  BOOST_TEST(proxy.connections() == 1);
  int raw = raw_connect(proxy.port());
  proxy.blackhole();
  auto answer = std::async(std::launch::async, [&] {
    return db.query_value("SELECT 42").value_or("");
  });
  BOOST_TEST((answer.wait_for(1500ms) == std::future_status::timeout));
  BOOST_TEST(!readable_within(raw, 10)); // no RST, no FIN: silence
  // A new connection is accepted but gets no answer: libpq gives up.
  auto started = std::chrono::steady_clock::now();
  BOOST_CHECK_THROW(store{through(proxy, "connect_timeout=2")}, store_unavailable);
  BOOST_TEST(seconds_since(started) >= 1.5);
  BOOST_TEST(proxy.accepted() == 3);
  // Healed: the held query reaches Postgres and its answer comes back.
  proxy.pass();
  BOOST_REQUIRE((answer.wait_for(2s) == std::future_status::ready));
  BOOST_TEST(answer.get() == "42");
  BOOST_TEST(db.query_value("SELECT 2").value_or("") == "2");
  close(raw);
}

BOOST_AUTO_TEST_CASE(a_reset_sends_every_connection_an_rst_and_passes_again) {
  fault_proxy proxy{dsn_port(test_dsn())};
  store db{through(proxy)};
  auto backend = db.query_value("SELECT pg_backend_pid()").value_or("");
  int raw = raw_connect(proxy.port());
  BOOST_REQUIRE(wait_until([&] { return proxy.connections() == 2; }, 2s));
  proxy.reset();
  BOOST_TEST(proxy.connections() == 0);
  BOOST_REQUIRE(readable_within(raw, 1000));
  char byte;
  BOOST_TEST(recv(raw, &byte, 1, 0) == -1); // an RST, not an orderly close
  BOOST_TEST(errno == ECONNRESET);
  close(raw);
  auto started = std::chrono::steady_clock::now();
  BOOST_CHECK_THROW(db.query_value("SELECT 1"), store_unavailable);
  BOOST_TEST(seconds_since(started) < 1.0);
  // Postgres ended the session on its side too.
  BOOST_TEST(wait_until([&] {
    return count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + backend) == 0;
  }, 3s));
  store again{through(proxy)};
  BOOST_TEST(again.query_value("SELECT 3").value_or("") == "3");
}

BOOST_AUTO_TEST_CASE(a_delay_holds_each_direction_back) {
  fault_proxy proxy{dsn_port(test_dsn())};
  store db{through(proxy)};
  proxy.delay(150ms);
  auto started = std::chrono::steady_clock::now();
  BOOST_TEST(db.query_value("SELECT 1").value_or("") == "1");
  BOOST_TEST(seconds_since(started) >= 0.3); // there and back
  proxy.pass();
  started = std::chrono::steady_clock::now();
  BOOST_TEST(db.query_value("SELECT 1").value_or("") == "1");
  BOOST_TEST(seconds_since(started) < 0.1);
}

BOOST_AUTO_TEST_CASE(the_program_takes_commands_on_stdin_and_its_control_port) {
  auto bin = fault_proxy_bin();
  auto target = std::to_string(dsn_port(test_dsn()));
  auto r = run({bin, "--target", target}, {}, "blackhole\ndelay 5\nreset\nnonsense\npass\n");
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(std::regex_search(r.out, std::regex{"^listening 127\\.0\\.0\\.1:[0-9]+\n"}));
  BOOST_TEST(r.out.substr(r.out.find('\n') + 1)
             == "ok\nok\nok\nerror: unknown command 'nonsense' (pass, blackhole, reset,"
                " delay MS)\nok\n");
  BOOST_TEST(run({bin, "--target"}).exit_code == 2);
  BOOST_TEST(run({bin, "--target", target, "--listen", "0.0.0.0:0"}).exit_code == 2);
  // A free control port, then the program on it.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  auto control = ntohs(addr.sin_port);
  close(probe);
  // As the chaos driver starts it.
  background_process proxy{{bin, "--target", "127.0.0.1:" + target, "--listen", "127.0.0.1:0",
                            "--control", std::to_string(control)},
                           "/tmp/leasehold-fault-proxy-" + std::to_string(getpid()) + ".log"};
  std::smatch m;
  std::string log;
  BOOST_REQUIRE(wait_until([&] {
    log = proxy.log();
    return std::regex_search(log, m, std::regex{"listening 127\\.0\\.0\\.1:([0-9]+)"});
  }, 5s));
  auto port = static_cast<uint16_t>(std::stoi(m[1].str()));
  store db{dsn_with_port(test_dsn(), port)};
  BOOST_TEST(db.query_value("SELECT 1").value_or("") == "1");
  int c = raw_connect(control);
  BOOST_REQUIRE(send(c, "reset\n", 6, 0) == 6);
  char reply[16] = {};
  BOOST_REQUIRE(readable_within(c, 2000));
  BOOST_TEST(std::string(reply, static_cast<size_t>(recv(c, reply, sizeof(reply), 0))) == "ok\n");
  close(c);
  BOOST_CHECK_THROW(db.query_value("SELECT 1"), store_unavailable);
  store again{dsn_with_port(test_dsn(), port)};
  BOOST_TEST(again.query_value("SELECT 2").value_or("") == "2");
}

BOOST_AUTO_TEST_SUITE_END()
