#include "actors/cluster_face.hpp"

#include <caf/all.hpp>

#include "runtime/cluster_config.hpp"
#include "runtime/handler_pool.hpp"

namespace leasehold {

namespace {

using self_ptr = cluster_face_v1::stateful_pointer<cluster_face_state>;

cluster_view_v1 base_view(const cluster_face_config& cfg, const node_stats& stats) {
  cluster_view_v1 v;
  v.worker_id = stats.worker_id;
  v.version = cfg.version;
  v.protocol = cluster_protocol;
  v.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - cfg.started).count();
  if (cfg.pool) {
    v.pool_busy = static_cast<int64_t>(cfg.pool->busy());
    v.pool_size = static_cast<int64_t>(cfg.pool->capacity());
  }
  v.prefetched = stats.prefetched;
  v.failures = stats.supervised_failures;
  return v;
}

} // namespace

cluster_face_v1::behavior_type
cluster_face_impl(self_ptr self, cluster_face_config cfg, supervisor_actor supervisor) {
  return {
    [=](view_atom) -> caf::result<cluster_view_v1> {
      auto rp = self->make_response_promise<cluster_view_v1>();
      self->request(supervisor, cfg.ask_timeout, stats_atom::value)
        .then([=](node_stats& stats) mutable { rp.deliver(base_view(cfg, stats)); },
              [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](cluster_atom) -> caf::result<std::string> {
      return caf::make_error(caf::sec::runtime_error, "no cluster actor yet");
    },
    [=](nudge_atom, const std::string&) -> bool { return false; },
  };
}

} // namespace leasehold
