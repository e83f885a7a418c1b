#include "actors/cluster_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include <nlohmann/json.hpp>

#include "actors/cluster_report.hpp"
#include "runtime/cluster_config.hpp"
#include "runtime/log.hpp"
#include "runtime/tcp_probe.hpp"

namespace leasehold {

namespace {

using self_ptr = cluster_actor::stateful_pointer<cluster_state>;
using clock = std::chrono::steady_clock;

int64_t ms_since(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t).count();
}

cluster_link_v1 link_of(const cluster_peer& p) {
  return {p.worker_id, p.endpoint, p.state, p.reason, ms_since(p.since)};
}

// One probe on a thread of its own: a peer that drops SYNs costs this
// thread the probe's timeout, and nothing else.
caf::behavior prober(caf::event_based_actor* self) {
  return {[=](probe_atom, const std::string& host, uint16_t port, int64_t timeout_ms) {
    self->quit();
    return tcp_probe(host, port, std::chrono::milliseconds{timeout_ms});
  }};
}

void finish_if_done(self_ptr self, uint64_t id) {
  auto it = self->state.gathers.find(id);
  if (it == self->state.gathers.end() || !it->second->awaiting.empty())
    return;
  auto g = it->second;
  self->state.gathers.erase(it);
  g->promise.deliver(cluster_report_json(g->views, g->unreachable, self->state.worker_id,
                                         ms_since(g->began)));
}

// A peer's answer, or its failure, for one gather; only the first counts.
void settle(self_ptr self, uint64_t id, const std::string& worker,
            cluster_view_v1* view, const cluster_link_v1& failed) {
  auto it = self->state.gathers.find(id);
  if (it == self->state.gathers.end() || it->second->awaiting.erase(worker) == 0)
    return;
  if (view)
    it->second->views.push_back(std::move(*view));
  else
    it->second->unreachable.push_back(failed);
  finish_if_done(self, id);
}

void schedule_retry(self_ptr self, const cluster_actor_config& cfg, cluster_peer& p,
                    bool handshake_race) {
  // A TLS handshake that straddles a middleman tick fails with
  // connection_timeout though the peer is fine (plan F6): retry that once
  // at once, anything else after a growing, jittered delay.
  std::chrono::milliseconds delay{50};
  if (!(handshake_race && p.failures == 0)) {
    auto base = cfg.backoff_min * (int64_t{1} << std::min(p.failures, 10));
    base = std::min(base, cfg.backoff_max);
    std::uniform_int_distribution<int64_t> spread{base.count() * 8 / 10, base.count() * 12 / 10};
    delay = std::chrono::milliseconds{spread(self->state.jitter)};
  }
  ++p.failures;
  self->delayed_send(self, delay, retry_atom::value, p.worker_id, p.generation);
}

void link_failed(self_ptr self, const cluster_actor_config& cfg, const std::string& worker,
                 uint64_t generation, const std::string& reason, bool handshake_race = false) {
  auto it = self->state.peers.find(worker);
  if (it == self->state.peers.end() || it->second.generation != generation)
    return;
  auto& p = it->second;
  if (p.state != "down" || p.failures == 0)
    log::info("cluster link down", {{"peer", worker}, {"endpoint", p.endpoint},
                                    {"reason", reason}});
  if (p.state != "down")
    p.since = clock::now(); // down since the first failure
  p.state = "down";
  p.reason = reason;
  p.face = nullptr;
  schedule_retry(self, cfg, p, handshake_race);
}

// A v2 node greets a v2 peer in v2, and a v1 peer not at all: a message
// of a type the peer does not know would reach it empty (plan F9).
void hello_v2(self_ptr self, const std::string& worker, const caf::strong_actor_ptr& ptr,
              const std::set<std::string>& ifs) {
  if (!self->home_system().assignable<cluster_face_v2>(ifs)) {
    log::info("cluster peer speaks leasehold-cluster/1 only", {{"peer", worker}});
    return;
  }
  auto face = caf::actor_cast<cluster_face_v2>(ptr);
  auto sent = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch()).count();
  self->request(face, std::chrono::seconds{2}, echo2_atom::value,
                cluster_echo_v2{self->state.worker_id, sent})
    .then(
      [=](const cluster_echo_v2& echo) {
        log::info("cluster v2 echo answered", {{"peer", echo.from}});
      },
      [=](caf::error& err) {
        log::warn("cluster v2 echo failed", {{"peer", worker},
                                             {"error", self->system().render(err)}});
      });
}

void connect(self_ptr self, const cluster_actor_config& cfg, cluster_peer& p) {
  cluster_endpoint at;
  try {
    at = parse_cluster_endpoint(p.endpoint, "endpoint");
  } catch (const std::exception& e) {
    p.state = "down";
    p.reason = e.what(); // a bad row: retried when it changes
    return;
  }
  auto worker = p.worker_id;
  auto gen = ++p.generation;
  if (p.state != "down")
    p.since = clock::now();
  p.state = p.state == "down" ? "down" : "connecting";
  auto probe = self->spawn<caf::detached>(prober);
  self->request(probe, cfg.probe_timeout + std::chrono::seconds{1}, probe_atom::value,
                at.host, at.port, static_cast<int64_t>(cfg.probe_timeout.count()))
    .then(
      [=](bool open) {
        if (!open)
          return link_failed(self, cfg, worker, gen, "no TCP connection within "
                                                       + std::to_string(cfg.probe_timeout.count())
                                                       + "ms");
        auto& sys = self->home_system();
        auto mm = cfg.tls ? sys.openssl_manager().actor_handle()
                          : sys.middleman().actor_handle();
        self->request(mm, cfg.connect_timeout, caf::connect_atom::value, at.host, at.port)
          .then(
            [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
                const std::set<std::string>& ifs) {
              auto it = self->state.peers.find(worker);
              if (it == self->state.peers.end() || it->second.generation != gen)
                return;
              if (!ptr)
                return link_failed(self, cfg, worker, gen, "nothing published there");
              if (!self->home_system().assignable<cluster_face_v1>(ifs))
                return link_failed(self, cfg, worker, gen,
                                   "its interface lacks leasehold-cluster/1");
              auto& peer = it->second;
              peer.face = caf::actor_cast<cluster_face_v1>(ptr);
              self->monitor(peer.face);
              peer.state = "up";
              peer.reason.clear();
              peer.since = clock::now();
              peer.failures = 0;
              log::info("cluster link up", {{"peer", worker}, {"endpoint", peer.endpoint}});
              if (cfg.v2)
                hello_v2(self, worker, ptr, ifs);
            },
            [=](caf::error& err) {
              bool race = err == caf::sec::connection_timeout;
              link_failed(self, cfg, worker, gen, self->system().render(err), race);
            });
      },
      [=](caf::error& err) {
        link_failed(self, cfg, worker, gen, "probe failed: " + self->system().render(err));
      });
}

void drop_peer(self_ptr self, const std::string& worker) {
  auto it = self->state.peers.find(worker);
  if (it == self->state.peers.end())
    return;
  if (it->second.face)
    self->demonitor(it->second.face.address());
  log::info("cluster peer left", {{"peer", worker}, {"endpoint", it->second.endpoint}});
  auto left = link_of(it->second);
  left.state = "left";
  left.reason = "no longer a live instance";
  self->state.peers.erase(it);
  for (auto& [id, g] : std::map<uint64_t, std::shared_ptr<cluster_gather>>{self->state.gathers})
    settle(self, id, worker, nullptr, left);
}

// The live instances with an endpoint, from the observer's connection.
void apply_membership(self_ptr self, const cluster_actor_config& cfg, const std::string& json) {
  auto rows = nlohmann::json::parse(json, nullptr, false);
  if (!rows.is_array())
    return;
  std::map<std::string, std::string> live; // worker id -> endpoint
  for (const auto& r : rows) {
    if (!r.is_object() || !r.value("endpoint", nlohmann::json{}).is_string())
      continue;
    auto worker = r.value("worker_id", "");
    auto endpoint = r["endpoint"].get<std::string>();
    if (worker.empty() || worker == self->state.worker_id || endpoint == self->state.endpoint
        || r.value("status", "") == "STOPPED")
      continue;
    live[worker] = endpoint;
  }
  std::vector<std::string> gone;
  for (const auto& [worker, p] : self->state.peers)
    if (auto it = live.find(worker); it == live.end() || it->second != p.endpoint)
      gone.push_back(worker);
  for (const auto& worker : gone)
    drop_peer(self, worker);
  for (const auto& [worker, endpoint] : live) {
    if (self->state.peers.count(worker))
      continue;
    auto& p = self->state.peers[worker];
    p.worker_id = worker;
    p.endpoint = endpoint;
    connect(self, cfg, p);
  }
}

void poll_membership(self_ptr self, const cluster_actor_config& cfg,
                     const persistence_actor& store, const supervisor_actor& supervisor) {
  auto& st = self->state;
  if (st.polling || !st.face)
    return; // not published yet, or the last poll is still out
  st.polling = true;
  observe_request req;
  req.what = "workers";
  self->request(store, cfg.membership_interval + std::chrono::seconds{5}, observe_atom::value,
                req)
    .then(
      [=](const std::string& json) {
        self->state.polling = false;
        apply_membership(self, cfg, json);
      },
      [=](caf::error&) { self->state.polling = false; }); // next tick
  // A node registered again under a fresh worker id records its endpoint
  // on the new row, or its peers would never find it again.
  self->request(supervisor, std::chrono::seconds{2}, stats_atom::value)
    .then([=](const node_stats& s) {
            if (s.worker_id.empty() || s.worker_id == self->state.worker_id)
              return;
            self->state.worker_id = s.worker_id;
            observe_request set;
            set.what = "instance_endpoint";
            set.key = s.worker_id;
            set.body = self->state.endpoint;
            self->request(store, std::chrono::seconds{5}, observe_atom::value, set)
              .then([](const std::string&) {}, [](caf::error&) {});
          },
          [](caf::error&) {});
}

void gather(self_ptr self, const cluster_actor_config& cfg,
            caf::typed_response_promise<std::string> promise) {
  auto& st = self->state;
  auto id = ++st.next_gather;
  auto g = std::make_shared<cluster_gather>();
  g->promise = std::move(promise);
  st.gathers[id] = g;
  auto ask = [=](const cluster_face_v1& face, const std::string& worker,
                 const cluster_link_v1& as_failed) {
    g->awaiting.insert(worker);
    self->request(face, cfg.view_timeout, view_atom::value)
      .then([=](cluster_view_v1& v) { settle(self, id, worker, &v, as_failed); },
            [=](caf::error& err) {
              auto failed = as_failed;
              failed.state = "no answer";
              failed.reason = self->system().render(err);
              settle(self, id, worker, nullptr, failed);
            });
  };
  for (const auto& [worker, p] : st.peers) {
    if (p.state == "up")
      ask(p.face, worker, link_of(p));
    else
      g->unreachable.push_back(link_of(p));
  }
  if (st.face)
    ask(st.face, "", {st.worker_id, st.endpoint, "self", "", 0});
  finish_if_done(self, id);
}

} // namespace

cluster_actor::behavior_type
cluster_actor_impl(self_ptr self, cluster_actor_config cfg, persistence_actor store,
                   supervisor_actor supervisor) {
  self->state.worker_id = cfg.worker_id;
  self->set_down_handler([=](caf::down_msg& dm) {
    for (auto& [worker, p] : self->state.peers) {
      if (!p.face || p.face.address() != dm.source)
        continue;
      auto reason = dm.reason ? self->system().render(dm.reason) : std::string{"link closed"};
      auto failed = link_of(p);
      failed.state = "down";
      failed.reason = reason;
      // Fail what waits on this peer now, not at its timeout (plan F7).
      for (auto& [id, g] : std::map<uint64_t, std::shared_ptr<cluster_gather>>{self->state.gathers})
        settle(self, id, worker, nullptr, failed);
      p.failures = 0;
      link_failed(self, cfg, worker, p.generation, reason);
      return;
    }
  });
  self->delayed_send(self, cfg.membership_interval, tick_atom::value);
  return {
    [=](tick_atom) {
      poll_membership(self, cfg, store, supervisor);
      self->delayed_send(self, cfg.membership_interval, tick_atom::value);
    },
    [=](face_atom, cluster_face_v1 face, std::string endpoint) {
      self->state.face = std::move(face);
      self->state.endpoint = std::move(endpoint);
      poll_membership(self, cfg, store, supervisor);
    },
    [=](cluster_atom) -> caf::result<std::string> {
      auto promise = self->make_response_promise<std::string>();
      gather(self, cfg, promise);
      return promise;
    },
    [=](links_atom) {
      std::vector<cluster_link_v1> out;
      for (const auto& kv : self->state.peers)
        out.push_back(link_of(kv.second));
      return out;
    },
    [=](notify_atom, const std::string& worker, const std::string& topic) -> bool {
      // "" is every node, this one included; a peer without an up link
      // learns it from Postgres at its next heartbeat or poll.
      auto& st = self->state;
      auto nudge = [&](const cluster_face_v1& face) {
        self->request(face, cfg.view_timeout, nudge_atom::value, topic)
          .then([](bool) {}, [](caf::error&) {});
      };
      bool told = false;
      if ((worker.empty() || worker == st.worker_id) && st.face) {
        nudge(st.face);
        told = true;
      }
      for (const auto& [id, p] : st.peers)
        if ((worker.empty() || worker == id) && p.state == "up") {
          nudge(p.face);
          told = true;
        }
      return told;
    },
    [=](retry_atom, const std::string& worker, uint64_t generation) {
      auto it = self->state.peers.find(worker);
      if (it != self->state.peers.end() && it->second.generation == generation)
        connect(self, cfg, it->second);
    },
  };
}

} // namespace leasehold
