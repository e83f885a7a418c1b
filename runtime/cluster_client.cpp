#include "runtime/cluster_client.hpp"

#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/remote_actor.hpp>

#include "messages/cluster_protocol.hpp"
#include "messages/registration.hpp"
#include "runtime/tcp_probe.hpp"

namespace leasehold {

struct cluster_client::impl {
  cluster_settings settings;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  cluster_face_v1 connect(const cluster_endpoint& at) {
    // CAF's connect blocks on a host that drops SYNs: probe it first.
    if (!tcp_probe(at.host, at.port, std::chrono::seconds{1}))
      throw std::runtime_error("cannot link to " + at.text()
                               + ": unreachable (no TCP connection within 1s)");
    auto face = settings.tls()
                  ? caf::openssl::remote_actor<cluster_face_v1>(*sys, at.host, at.port)
                  : sys->middleman().remote_actor<cluster_face_v1>(at.host, at.port);
    if (!face)
      throw std::runtime_error("cannot link to " + at.text() + ": refused ("
                               + sys->render(face.error()) + ")");
    return *face;
  }

  template <class T, class... Ts>
  T ask(const cluster_endpoint& at, std::chrono::milliseconds timeout, Ts&&... xs) {
    auto face = connect(at);
    caf::scoped_actor self{*sys};
    T out{};
    std::string failure;
    self->request(face, timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); },
               [&](caf::error& err) { failure = sys->render(err); });
    if (!failure.empty())
      throw std::runtime_error("no answer from " + at.text() + ": " + failure);
    return out;
  }
};

cluster_client::cluster_client(const cluster_settings& settings)
  : impl_(std::make_unique<impl>()) {
  impl_->settings = settings;
  register_messages(impl_->cfg);
  apply_cluster_settings(impl_->cfg, settings);
  // A client of few requests: one scheduler thread is plenty.
  impl_->cfg.set("scheduler.max-threads", size_t{1});
  impl_->sys = std::make_unique<caf::actor_system>(impl_->cfg);
  check_cluster_applied(*impl_->sys, settings);
}

cluster_client::~cluster_client() = default;

cluster_view_v1 cluster_client::view(const cluster_endpoint& at,
                                     std::chrono::milliseconds timeout) {
  return impl_->ask<cluster_view_v1>(at, timeout, view_atom::value);
}

std::string cluster_client::cluster(const cluster_endpoint& at,
                                    std::chrono::milliseconds timeout) {
  return impl_->ask<std::string>(at, timeout, cluster_atom::value);
}

bool cluster_client::nudge(const cluster_endpoint& at, const std::string& topic,
                           std::chrono::milliseconds timeout) {
  return impl_->ask<bool>(at, timeout, nudge_atom::value, topic);
}

} // namespace leasehold
