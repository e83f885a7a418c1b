#include "runtime/node.hpp"

#include <unistd.h>

#include <csignal>
#include <stdexcept>

#include <caf/all.hpp>

#include "actors/cluster_actor.hpp"
#include "actors/observer_actor.hpp"
#include "actors/pruner_actor.hpp"
#include "actors/supervisor_actor.hpp"
#include "messages/errors.hpp"
#include "messages/registration.hpp"
#include "persistence/store.hpp"
#include "runtime/cluster_publisher.hpp"
#include "runtime/execution_ledger.hpp"
#include "runtime/progress_board.hpp"
#include "runtime/handler_pool.hpp"
#include "runtime/http_bridge.hpp"
#include "runtime/secrets.hpp"
#include "runtime/metrics.hpp"
#include "runtime/identity.hpp"
#include "runtime/log.hpp"
#include "runtime/version.hpp"

namespace leasehold {

struct node::impl {
  caf::actor_system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<handler_pool> pool;
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  supervisor_actor supervisor;
  persistence_actor observer_store;
  observer_actor observer;
  persistence_actor pruner_store;
  pruner_actor pruner;
  std::unique_ptr<http_bridge> http;
  cluster_actor cluster_links;
  std::unique_ptr<cluster_publisher> cluster;
  bool stopped = false;

  void wait_supervisor_down() {
    caf::scoped_actor self{*sys};
    self->monitor(supervisor);
    self->receive([](caf::down_msg&) {});
  }

  // After the supervisor: the HTTP bridge, then the observer, then the rest.
  void await_stop() {
    wait_supervisor_down();
    http.reset();
    cluster.reset(); // peers see the link go down; the row goes STOPPED
    if (cluster_links)
      caf::anon_send_exit(cluster_links, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(observer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(observer_store, caf::exit_reason::user_shutdown);
    if (pruner) {
      caf::anon_send_exit(pruner, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(pruner_store, caf::exit_reason::user_shutdown);
    }
    sys->await_all_actors_done();
    pool.reset(); // joins handler threads while the actors' system exists
    stopped = true;
  }
};

node::node(node_config cfg, std::shared_ptr<const handler_registry> handlers)
  : cfg_(std::move(cfg)),
    worker_id_(make_worker_id(cfg_.worker_base)),
    handlers_(std::move(handlers)) {
  cfg_.validate();
}

node::~node() {
  if (impl_ && !impl_->stopped)
    kill();
}

void node::start() {
  // Writes to a closed pipe (an exiting program, a dropped connection)
  // must be errors, not process death.
  std::signal(SIGPIPE, SIG_IGN);
  // Opened first: a ledger that cannot be written stops the start before
  // anything is registered.
  std::shared_ptr<execution_ledger> ledger;
  if (!cfg_.execution_ledger.empty())
    ledger = std::make_shared<execution_ledger>(cfg_.execution_ledger);
  {
    store db{cfg_.database_url};
    if (cfg_.migrate)
      if (auto n = db.migrate(); n > 0)
        log::info("migrations applied", {{"count", n}});
    db.check_timestamp("trace-cutoff", cfg_.trace_cutoff);
  }
  // Registration on a node connection (bounded waits): a process paused in
  // the middle of it holds the row for seconds, not forever.
  store{cfg_.database_url, statement_plans::automatic, wait_limits::bounded}
    .register_instance(instance(), cfg_.stale_after, cfg_.stop_timeout);
  impl_ = std::make_unique<impl>();
  register_messages(impl_->sys_cfg);
  impl_->sys_cfg.set("scheduler.max-threads", cfg_.scheduler_threads);
  // CAF's idle workers first spin, then poll with 50us sleeps for 25ms, then
  // wait on a condition variable. The sleeping polls cost a context switch
  // each and took a tenth of the node's CPU under load; skip them. Work from
  // other threads still wakes a waiting worker at once.
  impl_->sys_cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  if (cfg_.cluster.enabled())
    apply_cluster_settings(impl_->sys_cfg, cfg_.cluster);
  impl_->sys = std::make_unique<caf::actor_system>(impl_->sys_cfg);
  if (cfg_.cluster.enabled())
    check_cluster_applied(*impl_->sys, cfg_.cluster);

  auto queues = cfg_.effective_queues();
  size_t slots = 0;
  for (const auto& kv : queues)
    slots += static_cast<size_t>(kv.second);
  impl_->pool = std::make_shared<handler_pool>(slots);

  supervisor_config sc;
  sc.persistence.database_url = cfg_.database_url;
  sc.persistence.worker_id = worker_id_;
  sc.persistence.instance = instance();
  sc.persistence.trace = {cfg_.trace_cutoff, cfg_.trace_strict};
  sc.persistence.retry_base = cfg_.retry_base;
  sc.persistence.retry_cap = cfg_.retry_cap;
  sc.completion_linger = cfg_.completion_linger;
  sc.scheduler = {cfg_.schedule_interval,
                  std::max(std::chrono::milliseconds{5000}, cfg_.schedule_interval * 10)};
  sc.worker_base = cfg_.worker_base;
  sc.persistence.limits = payload_limits(cfg_.max_payload_bytes);
  sc.executor.limits = sc.persistence.limits;
  sc.executor.limits.max_output_bytes = static_cast<size_t>(cfg_.max_output_bytes);
  sc.lease.queues = queues;
  sc.prefetch = {cfg_.prefetch, cfg_.prefetch_horizon, cfg_.prefetch_max_hold};
  sc.lease.types = handlers_->types();
  sc.lease.poll_interval = cfg_.poll_interval;
  sc.lease.claim_timeout = cfg_.claim_timeout;
  sc.lease.metrics = impl_->metrics;
  sc.heartbeat.metrics = impl_->metrics;
  sc.executor.metrics = impl_->metrics;
  sc.heartbeat.interval = cfg_.heartbeat_interval;
  sc.reaper = {cfg_.reap_interval, cfg_.lease_ttl, cfg_.retry_base,
               cfg_.retry_cap, cfg_.stale_after, cfg_.stop_timeout};
  sc.executor.worker_id = worker_id_;
  sc.executor.retry = {cfg_.retry_base, cfg_.retry_cap};
  sc.executor.attempt_timeout = cfg_.attempt_timeout;
  sc.executor.ledger = ledger;
  sc.executor.progress = std::make_shared<progress_board>();
  sc.heartbeat.progress = sc.executor.progress;
  sc.executor.handlers = handlers_;
  sc.executor.pool = impl_->pool;
  sc.stop_timeout = cfg_.stop_timeout;
  impl_->supervisor = impl_->sys->spawn(supervisor_actor_impl, sc);
  start_observer(sc.persistence);
  start_pruner(sc.persistence);
  start_cluster();
  // The actors are up: STARTING -> RUNNING (unless already taken from us).
  store{cfg_.database_url, statement_plans::automatic, wait_limits::bounded}
    .set_instance_status(worker_id_, "RUNNING", {"STARTING"});
  log::info("node started",
            {{"queues", queues},
             {"database", redact_database_url(cfg_.database_url)},
             {"heartbeat_interval_ms", cfg_.heartbeat_interval.count()},
             {"lease_ttl_ms", cfg_.lease_ttl.count()}});
}

instance_info node::instance() const {
  instance_info me;
  me.worker_id = worker_id_;
  me.worker_type = cfg_.worker_type;
  me.singleton = cfg_.singleton;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  me.hostname = host;
  me.pid = static_cast<int32_t>(getpid());
  me.version = runtime_version();
  auto metadata = build_metadata();
  // What this node claims: /health names queued types no live node serves.
  metadata["job_types"] = handlers_->types();
  me.metadata = metadata.dump();
  me.terms = {cfg_.lease_ttl.count(), cfg_.stale_after.count(), cfg_.stop_timeout.count()};
  return me;
}

void node::start_pruner(const persistence_config& store_cfg) {
  if (cfg_.prune_interval.count() == 0)
    return;
  // Its own connection, like the observer's: a pass's batches never wait
  // in line with this node's claims and completions.
  auto pruner_cfg = store_cfg;
  pruner_cfg.waits = wait_limits::bounded;
  auto& sys = *impl_->sys;
  impl_->pruner_store = sys.spawn<caf::detached>(persistence_actor_impl, pruner_cfg);
  impl_->pruner = sys.spawn(pruner_actor_impl,
                            pruner_config{cfg_.prune_interval, cfg_.retention, impl_->metrics},
                            impl_->pruner_store);
}

void node::start_observer(const persistence_config& store_cfg) {
  auto& sys = *impl_->sys;
  // Its own connection, so operators' reads never wait behind claims; with
  // bounded waits like every node connection.
  auto observer_cfg = store_cfg;
  observer_cfg.waits = wait_limits::bounded;
  impl_->observer_store = sys.spawn<caf::detached>(persistence_actor_impl, observer_cfg);
  if (cfg_.cluster.enabled()) {
    // Membership is read on the observer's connection: one small query
    // per heartbeat, no connection of its own.
    cluster_actor_config cc;
    cc.worker_id = worker_id_;
    cc.tls = cfg_.cluster.tls();
    cc.membership_interval = cfg_.heartbeat_interval;
    cc.v2 = cfg_.cluster.test_v2;
    impl_->cluster_links = sys.spawn(cluster_actor_impl, cc, impl_->observer_store,
                                     impl_->supervisor);
  }
  observer_config oc;
  oc.worker_id = worker_id_;
  oc.thresholds = {cfg_.lease_ttl.count(), cfg_.stale_after.count(),
                   cfg_.stop_timeout.count()};
  oc.alerts.lag_critical_seconds = cfg_.alert_lag.count() / 1000;
  oc.alerts.dead_warning = cfg_.alert_dead;
  oc.metrics = impl_->metrics;
  oc.cluster = impl_->cluster_links;
  impl_->observer = sys.spawn(observer_actor_impl, oc, impl_->observer_store,
                              impl_->supervisor);
  if (cfg_.http_listen == "off")
    return;
  auto http_cfg = parse_http_listen(cfg_.http_listen);
  http_cfg.token = cfg_.http_token;
  http_cfg.read_token = cfg_.http_read_token;
  // Room for the largest payload and the job's other fields around it.
  http_cfg.body_limit = static_cast<size_t>(cfg_.max_payload_bytes) + 64 * 1024;
  try {
    impl_->http = std::make_unique<http_bridge>(sys, impl_->observer, http_cfg);
    log::info("http listening", {{"address", http_cfg.host + ":"
                                               + std::to_string(impl_->http->port())},
                                 {"writes", http_cfg.token.empty() ? "disabled" : "enabled"},
                                 {"reads", http_cfg.read_token.empty() ? "open" : "token"}});
    if (!is_loopback_host(http_cfg.host))
      log::warn("http bridge is reachable from other hosts",
                {{"address", http_cfg.host}, {"reads", http_cfg.read_token.empty()
                                                         ? "open: set --http-read-token"
                                                         : "token"}});
  } catch (const std::exception& e) {
    // Several nodes on one host: the later ones run without the bridge.
    log::warn("http bridge disabled", {{"error", e.what()}});
  }
}

void node::start_cluster() {
  if (!cfg_.cluster.enabled())
    return;
  cluster_face_config fc;
  fc.version = runtime_version();
  fc.pool = impl_->pool;
  fc.metrics = impl_->metrics;
  fc.worker_id = worker_id_;
  try {
    impl_->cluster = std::make_unique<cluster_publisher>(*impl_->sys, cfg_.cluster, fc,
                                                         impl_->supervisor,
                                                         impl_->cluster_links);
  } catch (const std::exception& e) {
    // Links add speed and visibility, never correctness: run without them.
    log::warn("cluster links disabled", {{"error", e.what()}});
    return;
  }
  const auto& endpoint = impl_->cluster->endpoint();
  // Recorded before it is logged: whoever reads the log finds the row.
  store{cfg_.database_url, statement_plans::automatic, wait_limits::bounded}
    .set_instance_endpoint(worker_id_, endpoint);
  caf::anon_send(impl_->cluster_links, face_atom::value, impl_->cluster->face(), endpoint);
  log::info("cluster listening", {{"address", endpoint},
                                  {"tls", cfg_.cluster.tls()},
                                  {"port", impl_->cluster->port()}});
}

std::string node::cluster_endpoint() const {
  return impl_ && impl_->cluster ? impl_->cluster->endpoint() : "";
}

int node::http_port() const {
  return impl_ && impl_->http ? impl_->http->port() : -1;
}

void node::stop() {
  if (!impl_ || impl_->stopped)
    return;
  {
    caf::scoped_actor self{*impl_->sys};
    self->request(impl_->supervisor, caf::infinite, stop_atom::value, false)
      .receive([](bool) {}, [](caf::error&) {});
  }
  impl_->await_stop();
}

std::string node::wait() {
  if (!impl_ || !impl_->supervisor)
    return "";
  std::string reason;
  {
    caf::scoped_actor self{*impl_->sys};
    self->monitor(impl_->supervisor);
    self->receive([&](caf::down_msg& dm) {
      if (dm.reason)
        reason = reason_label(dm.reason);
    });
  }
  return reason;
}

void node::kill() {
  if (!impl_ || impl_->stopped || !impl_->supervisor)
    return; // not started, or its start failed half way
  caf::anon_send_exit(impl_->supervisor, caf::exit_reason::user_shutdown);
  impl_->await_stop();
}

void node::interrupt_gracefully() {
  if (impl_ && impl_->supervisor)
    caf::anon_send(impl_->supervisor, stop_atom::value, false);
}

void node::interrupt() {
  if (impl_ && impl_->supervisor)
    caf::anon_send(impl_->supervisor, stop_atom::value, true);
}

void node::crash_core_actor(size_t index) {
  caf::scoped_actor self{*impl_->sys};
  self->request(impl_->supervisor, std::chrono::seconds{5}, core_atom::value)
    .receive(
      [&](std::vector<caf::actor>& core) {
        if (index < core.size() && core[index])
          self->send_exit(core[index], caf::sec::runtime_error);
      },
      [](caf::error&) {});
}

node_stats node::stats() {
  node_stats out;
  if (!impl_ || impl_->stopped)
    return out;
  caf::scoped_actor self{*impl_->sys};
  self->request(impl_->supervisor, std::chrono::seconds{5}, stats_atom::value)
    .receive([&](node_stats& s) { out = std::move(s); },
             [](caf::error&) {});
  return out;
}

} // namespace leasehold
