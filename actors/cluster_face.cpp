#include "actors/cluster_face.hpp"

#include <caf/all.hpp>

#include "runtime/cluster_config.hpp"
#include "runtime/handler_pool.hpp"
#include "runtime/metrics.hpp"

namespace leasehold {

namespace {

using self_ptr = cluster_face_v1::stateful_pointer<cluster_face_state>;
using self_v2_ptr = cluster_face_v2::stateful_pointer<cluster_face_state>;
using clock = std::chrono::steady_clock;

int64_t completed(const node_stats& s) {
  int64_t n = 0;
  for (const auto& kv : s.outcomes)
    n += kv.second;
  return n;
}

// Rates are read over the samples the views took: the newest older than
// the window is kept, so a rate spans at least the window once the node is
// that old (a first sample is taken at the start).
template <class Self>
void sample(Self self, const cluster_face_config& cfg, const node_stats& s) {
  auto& samples = self->state.samples;
  auto now = clock::now();
  samples.push_back({now, s.claimed, completed(s)});
  while (samples.size() > 2 && now - samples[1].at >= cfg.rate_window)
    samples.pop_front();
}

template <class Self>
void fill_rates(Self self, cluster_view_v1& v) {
  const auto& samples = self->state.samples;
  if (samples.size() < 2)
    return;
  const auto& a = samples.front();
  const auto& b = samples.back();
  double seconds = std::chrono::duration<double>(b.at - a.at).count();
  if (seconds <= 0)
    return;
  v.claims_per_second = static_cast<double>(b.claimed - a.claimed) / seconds;
  v.completions_per_second = static_cast<double>(b.completed - a.completed) / seconds;
}

template <class Self>
cluster_view_v1 base_view(Self self, const cluster_face_config& cfg,
                          const node_stats& stats) {
  cluster_view_v1 v;
  v.worker_id = stats.worker_id;
  v.version = cfg.version;
  v.protocol = cluster_protocol;
  v.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  clock::now() - cfg.started).count();
  if (cfg.pool) {
    v.pool_busy = static_cast<int64_t>(cfg.pool->busy());
    v.pool_size = static_cast<int64_t>(cfg.pool->capacity());
  }
  v.prefetched = stats.prefetched;
  v.failures = stats.supervised_failures;
  sample(self, cfg, stats);
  fill_rates(self, v);
  return v;
}

// The handlers of version 1, for the faces of every version.
template <class Self>
auto v1_handlers(Self self, const cluster_face_config& cfg, const supervisor_actor& supervisor,
                 const cluster_actor& cluster) {
  self->request(supervisor, cfg.ask_timeout, stats_atom::value)
    .then([=](const node_stats& s) { sample(self, cfg, s); }, [](caf::error&) {});
  auto view = [=](view_atom) -> caf::result<cluster_view_v1> {
    // Three local asks in turn: figures, attempts, links.
    auto rp = self->template make_response_promise<cluster_view_v1>();
    auto t = cfg.ask_timeout;
    self->request(supervisor, t, stats_atom::value).then(
      [=](const node_stats& stats) mutable {
        auto view = std::make_shared<cluster_view_v1>(base_view(self, cfg, stats));
        self->request(supervisor, t, inflight_atom::value).then(
          [=](std::vector<cluster_attempt_v1>& attempts) mutable {
            view->attempts = std::move(attempts);
            if (!cluster) {
              rp.deliver(*view);
              return;
            }
            self->request(cluster, t, links_atom::value).then(
              [=](std::vector<cluster_link_v1>& links) mutable {
                view->links = std::move(links);
                rp.deliver(*view);
              },
              [=](caf::error&) mutable { rp.deliver(*view); });
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  };
  auto gather = [=](cluster_atom) -> caf::result<std::string> {
    if (!cluster)
      return caf::make_error(caf::sec::runtime_error, "this node's cluster links are off");
    return self->delegate(cluster, cluster_atom::value);
  };
  auto nudge = [=](nudge_atom, const std::string& topic) -> bool {
    if (topic != "leases" && topic != "queues")
      return false; // a newer peer's topic: it falls back on Postgres
    if (cfg.metrics)
      ++cfg.metrics->cluster_nudges;
    self->send(supervisor, nudge_atom::value, topic);
    return true;
  };
  return std::make_tuple(view, gather, nudge);
}

} // namespace

cluster_face_v1::behavior_type
cluster_face_impl(self_ptr self, cluster_face_config cfg, supervisor_actor supervisor,
                  cluster_actor cluster) {
  auto [view, gather, nudge] = v1_handlers(self, cfg, supervisor, cluster);
  return {view, gather, nudge};
}

cluster_face_v2::behavior_type
cluster_face_v2_impl(self_v2_ptr self, cluster_face_config cfg, supervisor_actor supervisor,
                     cluster_actor cluster) {
  auto [view, gather, nudge] = v1_handlers(self, cfg, supervisor, cluster);
  return {view, gather, nudge, [=](echo2_atom, cluster_echo_v2& echo) {
            echo.from = cfg.worker_id;
            return echo;
          }};
}

} // namespace leasehold
