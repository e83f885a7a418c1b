// Cluster links between real `leasehold node` processes (issue 21): flags,
// the published cluster face, the endpoint each node records, TLS.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <map>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "runtime/cluster_client.hpp"
#include "tests/support/cluster_node.hpp"
#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_pki.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

// Waits for the node's "cluster listening" line; its address.
std::string await_cluster_address(const background_process& node) {
  std::string at;
  wait_until([&] { return !(at = cluster_address(node)).empty(); }, 15s);
  return at;
}

// TCP ports the process listens on: its socket inodes, looked up among
// the LISTEN entries (state 0A) of /proc/net/tcp and tcp6.
std::set<int> listening_ports(pid_t pid) {
  std::set<std::string> inodes;
  auto fds = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = opendir(fds.c_str())) {
    while (auto* e = readdir(d)) {
      char target[256] = {};
      auto path = fds + "/" + e->d_name;
      auto n = readlink(path.c_str(), target, sizeof(target) - 1);
      std::string t{target, n > 0 ? static_cast<size_t>(n) : 0};
      if (t.rfind("socket:[", 0) == 0)
        inodes.insert(t.substr(8, t.size() - 9));
    }
    closedir(d);
  }
  std::set<int> ports;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in{table};
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
      std::istringstream f{line};
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state == "0A" && inodes.count(inode))
        ports.insert(std::stoi(local.substr(local.find(':') + 1), nullptr, 16));
    }
  }
  return ports;
}

cluster_settings client_settings(const test_pki* pki = nullptr,
                                 const std::string& name = "") {
  cluster_settings s;
  if (pki) {
    s.cert = pki->cert(name);
    s.key = pki->key(name);
    s.ca = pki->ca();
  }
  return s;
}

// Each node's view of its links, through its own GET /cluster: worker id
// of the peer -> state, from the node's own entry.
std::map<std::string, std::string> links_seen_by(const background_process& node) {
  std::map<std::string, std::string> out;
  auto c = cluster_of(node);
  if (!c.is_object())
    return out;
  auto me = worker_of(node);
  for (const auto& n : c["nodes"])
    if (n.value("worker_id", "") == me && n.contains("links"))
      for (const auto& l : n["links"])
        out[l.value("worker_id", "")] = l.value("state", "");
  return out;
}

// True once every node sees a link "up" to every other one.
bool all_linked(const std::vector<background_process*>& nodes) {
  for (auto* a : nodes) {
    auto seen = links_seen_by(*a);
    for (auto* b : nodes)
      if (a != b && seen[worker_of(*b)] != "up")
        return false;
  }
  return true;
}

// A peer as `node`'s GET /cluster lists it: {} when it is not listed.
nlohmann::json entry_for(const nlohmann::json& cluster, const std::string& worker) {
  if (cluster.is_object())
    for (const auto& n : cluster["nodes"])
      if (n.value("worker_id", "") == worker)
        return n;
  return nlohmann::json::object();
}

// A TCP listener that accepts nothing, with a full accept queue: the kernel
// drops further SYNs, as a host behind a firewall or a partition does.
struct syn_dropping_listener {
  int fd = -1;
  std::vector<int> fillers;
  uint16_t port = 0;
  syn_dropping_listener() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd, 0);
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    for (int i = 0; i < 4; ++i) { // fill the queue (backlog 0 takes one)
      int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a));
      fillers.push_back(c);
    }
    std::this_thread::sleep_for(100ms);
  }
  ~syn_dropping_listener() {
    for (int c : fillers)
      close(c);
    close(fd);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(cluster_links, pg_fixture)

BOOST_AUTO_TEST_CASE(bad_cluster_flags_are_refused_in_one_line) {
  test_pki pki{{"a"}};
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
    {{"--cluster-listen", "localhost:0"}, "IP address"},
    {{"--cluster-listen", "127.0.0.1"}, "HOST:PORT"},
    {{"--cluster-listen", "127.0.0.1:70000"}, "port"},
    {{"--cluster-listen", "0.0.0.0:0"}, "--cluster-insecure"},
    {{"--cluster-advertise", "node-b.internal:7000"}, "IP address"},
    {{"--cluster-cert", pki.cert("a")}, "go together"},
    {{"--cluster-cert", "/nonexistent/a.pem", "--cluster-key", pki.key("a"),
      "--cluster-ca", pki.ca()}, "/nonexistent/a.pem"},
    {{"--cluster-cert", pki.cert("a"), "--cluster-key", pki.key("rogue"),
      "--cluster-ca", pki.ca()}, "does not match --cluster-cert"},
    {{"--cluster-cert", pki.cert("a"), "--cluster-key", pki.key("a"),
      "--cluster-ca", "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"},
    {{"--cluster-heartbeat", "1ms"}, "between 50ms and 10s"},
  };
  for (const auto& [flags, expected] : cases) {
    auto argv = fault_node_args(flags);
    auto r = run_for(argv, {{"DATABASE_URL", test_dsn()}}, 20000);
    BOOST_TEST_CONTEXT(flags.front() << " " << flags.at(1)) {
      BOOST_TEST(r.exit_code == 1);
      BOOST_TEST(r.err.find(expected) != std::string::npos, r.err);
      BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') <= 1, r.err);
    }
  }
  // Nothing registered by the refused starts.
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances") == 0);
}

BOOST_AUTO_TEST_CASE(a_node_publishes_its_face_and_records_where) {
  auto node = start_node({"--concurrency", "4"});
  auto at = await_cluster_address(*node);
  BOOST_REQUIRE(!at.empty());
  auto worker = worker_of(*node);
  BOOST_REQUIRE(!worker.empty());
  BOOST_TEST(value("SELECT endpoint FROM leasehold.worker_instances WHERE worker_id = '"
                   + worker + "'") == at);
  BOOST_TEST(at.rfind("127.0.0.1:", 0) == 0); // loopback by default
  auto port = parse_cluster_endpoint(at, "address").port;
  BOOST_TEST(listening_ports(node->pid()).count(port) == 1);

  cluster_client client{client_settings()};
  auto began = std::chrono::steady_clock::now();
  auto view = client.view(parse_cluster_endpoint(at, "address"), 1s);
  BOOST_TEST((std::chrono::steady_clock::now() - began < 1s));
  BOOST_TEST(view.worker_id == worker);
  BOOST_TEST(view.protocol == "leasehold-cluster/1");
  BOOST_TEST(view.version
             == value("SELECT version FROM leasehold.worker_instances WHERE worker_id = '"
                      + worker + "'"));
  BOOST_TEST(view.uptime_ms > 0);
  BOOST_TEST(view.pool_size == 4);

  node->signal(SIGTERM);
  BOOST_TEST(node->wait(10000) == 0);
  // A stopped node's face is gone: a client is refused at once.
  BOOST_CHECK_THROW(client.view(parse_cluster_endpoint(at, "address"), 1s),
                    std::runtime_error);
}

BOOST_AUTO_TEST_CASE(with_links_off_nothing_listens_and_no_endpoint_is_recorded) {
  auto node = start_node({"--cluster-listen", "off"});
  BOOST_REQUIRE(wait_until([&] { return !http_address(*node).empty(); }, 15s));
  auto worker = worker_of(*node);
  BOOST_REQUIRE(!worker.empty());
  BOOST_TEST(value("SELECT coalesce(endpoint, 'null') FROM leasehold.worker_instances "
                   "WHERE worker_id = '" + worker + "'") == "null");
  BOOST_TEST(cluster_address(*node).empty());
  // Nothing listens but the HTTP bridge.
  auto http_port = std::stoi(http_address(*node).substr(http_address(*node).rfind(':') + 1));
  BOOST_TEST((listening_ports(node->pid()) == std::set<int>{http_port}));
  node->signal(SIGTERM);
  BOOST_TEST(node->wait(10000) == 0);
}

BOOST_AUTO_TEST_CASE(tls_links_let_in_only_certificates_of_the_cluster_ca) {
  test_pki pki{{"a", "client"}};
  auto node = start_node(pki.node_flags("a"));
  auto at = await_cluster_address(*node);
  BOOST_REQUIRE(!at.empty());
  auto endpoint = parse_cluster_endpoint(at, "address");
  auto worker = worker_of(*node);

  // A certificate of the cluster's CA: let in.
  {
    cluster_client client{client_settings(&pki, "client")};
    BOOST_TEST(client.view(endpoint, 2s).worker_id == worker);
  }
  // No certificate (plain), and a rogue CA's certificate: refused, and
  // refused at the handshake, not after a long timeout.
  for (const char* who : {"plain", "rogue"}) {
    BOOST_TEST_CONTEXT(who) {
      cluster_client client{std::string{who} == "plain"
                              ? client_settings()
                              : [&] { auto s = client_settings(&pki, "rogue");
                                      s.ca = pki.ca(); return s; }()};
      auto began = std::chrono::steady_clock::now();
      BOOST_CHECK_THROW(client.view(endpoint, 2s), std::runtime_error);
      BOOST_TEST((std::chrono::steady_clock::now() - began < 1500ms));
    }
  }
  // The node survived both and still lets the cluster's certificates in.
  {
    cluster_client client{client_settings(&pki, "client")};
    BOOST_TEST(client.view(endpoint, 2s).worker_id == worker);
  }
  node->signal(SIGTERM);
  BOOST_TEST(node->wait(10000) == 0);
}

BOOST_AUTO_TEST_CASE(nodes_link_to_each_other_and_to_a_late_one_within_a_heartbeat) {
  auto a = start_node({});
  auto b = start_node({});
  auto c = start_node({});
  for (auto* n : {a.get(), b.get(), c.get()})
    BOOST_REQUIRE(!await_cluster_address(*n).empty());
  // Each node finds the others at its next membership read (300ms here).
  BOOST_TEST(wait_until([&] { return all_linked({a.get(), b.get(), c.get()}); }, 3s));
  auto began = std::chrono::steady_clock::now();
  auto d = start_node({});
  BOOST_REQUIRE(!await_cluster_address(*d).empty());
  BOOST_TEST(wait_until([&] { return all_linked({a.get(), b.get(), c.get(), d.get()}); },
                        5s));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - began).count();
  BOOST_TEST_MESSAGE("a late node was linked both ways " << took
                                                         << " ms after it was started");
  // Every node's GET /cluster lists all four, reachable.
  for (auto* n : {a.get(), b.get(), c.get(), d.get()}) {
    auto view = cluster_of(*n);
    BOOST_REQUIRE(view.is_object());
    BOOST_TEST(view["reachable"].get<int>() == 4);
    BOOST_TEST(view["unreachable"].get<int>() == 0);
  }
}

BOOST_AUTO_TEST_CASE(a_paused_or_killed_peer_is_marked_down_at_once_and_relinked) {
  auto a = start_node({});
  auto b = start_node({});
  auto c = start_node({});
  BOOST_REQUIRE(wait_until([&] { return all_linked({a.get(), b.get(), c.get()}); }, 5s));
  auto b_id = worker_of(*b), c_id = worker_of(*c);

  // Paused: the middleman's heartbeat (200ms, 3 missed) finds it; a view
  // asked meanwhile does not wait for it.
  b->signal(SIGSTOP);
  long took = 0;
  auto view = cluster_of(*a, &took);
  BOOST_TEST(took < 1500);
  BOOST_TEST(wait_until([&] { return links_seen_by(*a)[b_id] == "down"; }, 2s));
  view = cluster_of(*a, &took);
  BOOST_TEST(took < 1000);
  BOOST_TEST(entry_for(view, b_id).value("reachable", true) == false);
  BOOST_TEST(!entry_for(view, b_id).value("reason", "").empty());
  BOOST_TEST(entry_for(view, c_id).value("reachable", false) == true);
  // Back within its stale threshold: relinked under the same worker id.
  b->signal(SIGCONT);
  BOOST_TEST(wait_until([&] { return links_seen_by(*a)[b_id] == "up"; }, 3s));

  // Killed: the link breaks at once; the peer is dropped when the reaper
  // marks its row STOPPED (stale after 2.5s).
  c->signal(SIGKILL);
  BOOST_TEST(wait_until([&] { return links_seen_by(*a)[c_id] == "down"; }, 2s));
  BOOST_TEST(wait_until([&] { return links_seen_by(*a).count(c_id) == 0; }, 8s));
  BOOST_TEST(entry_for(cluster_of(*a), c_id).empty());
  BOOST_TEST(links_seen_by(*a)[b_id] == "up");
}

BOOST_AUTO_TEST_CASE(a_peer_that_drops_connects_delays_no_other_link_nor_a_stop) {
  syn_dropping_listener blackhole;
  auto keep_alive = [&] {
    db.execute("UPDATE leasehold.worker_instances SET last_heartbeat_at = now() "
               "WHERE worker_id = 'fake-syn-dropper'");
  };
  db.execute("INSERT INTO leasehold.worker_instances (worker_id, worker_type, status, "
             "hostname, pid, version, endpoint) VALUES ('fake-syn-dropper', 'leasehold', "
             "'RUNNING', 'nowhere', 1, 'x', '127.0.0.1:" + std::to_string(blackhole.port)
             + "')");
  auto a = start_node({});
  BOOST_REQUIRE(!await_cluster_address(*a).empty());
  keep_alive();
  auto b = start_node({});
  bool linked = wait_until([&] {
    keep_alive();
    return all_linked({a.get(), b.get()});
  }, 4s);
  BOOST_TEST(linked);
  keep_alive();
  auto seen = links_seen_by(*a);
  BOOST_TEST(seen["fake-syn-dropper"] == "down");
  auto fake = entry_for(cluster_of(*a), "fake-syn-dropper");
  BOOST_TEST(fake.value("reason", "").find("no TCP connection") != std::string::npos,
             fake.dump());
  // A stop is not held up by a connect in flight.
  auto began = std::chrono::steady_clock::now();
  a->signal(SIGTERM);
  BOOST_TEST(a->wait(5000) == 0);
  BOOST_TEST((std::chrono::steady_clock::now() - began < 5s));
}

BOOST_AUTO_TEST_CASE(tls_nodes_link_and_keep_their_links_as_others_come_and_knock) {
  test_pki pki{{"a", "b", "c", "d", "client"}};
  auto a = start_node(pki.node_flags("a"));
  auto b = start_node(pki.node_flags("b"));
  auto c = start_node(pki.node_flags("c"));
  BOOST_REQUIRE(wait_until([&] { return all_linked({a.get(), b.get(), c.get()}); }, 5s));
  // A late node probes and connects to all three; a rogue node (another
  // CA's certificate) and a plain node knock on every door and are refused.
  auto d = start_node(pki.node_flags("d"));
  auto rogue_flags = pki.node_flags("rogue");
  auto rogue = start_node(rogue_flags);
  auto plain = start_node({});
  BOOST_TEST(wait_until([&] { return all_linked({a.get(), b.get(), c.get(), d.get()}); }, 5s));
  std::this_thread::sleep_for(2s); // refused links retried a few times meanwhile
  auto rogue_id = worker_of(*rogue), plain_id = worker_of(*plain);
  for (auto* n : {a.get(), b.get(), c.get(), d.get()}) {
    auto view = cluster_of(*n);
    BOOST_REQUIRE(view.is_object());
    BOOST_TEST(view["reachable"].get<int>() == 4, view.dump());
    BOOST_TEST(entry_for(view, rogue_id).value("reachable", true) == false);
    BOOST_TEST(entry_for(view, plain_id).value("reachable", true) == false);
  }
  // Neither the rogue nor the plain node got a link up to anyone.
  for (auto* n : {rogue.get(), plain.get()})
    for (const auto& [peer, state] : links_seen_by(*n))
      BOOST_TEST(state != "up", peer);
}

BOOST_AUTO_TEST_SUITE_END()
