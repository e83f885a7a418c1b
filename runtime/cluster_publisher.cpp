#include "runtime/cluster_publisher.hpp"

#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/publish.hpp>

namespace leasehold {

cluster_publisher::cluster_publisher(caf::actor_system& sys, const cluster_settings& settings,
                                     cluster_face_config face_cfg,
                                     supervisor_actor supervisor, cluster_actor cluster)
  : sys_(sys) {
  auto at = parse_cluster_endpoint(settings.listen, "--cluster-listen");
  // With certificates only the OpenSSL module publishes: a plain port next
  // to the TLS one would let any client in.
  auto publish = [&](const auto& face) {
    return settings.tls() ? caf::openssl::publish(face, at.port, at.host.c_str(), true)
                          : sys.middleman().publish(face, at.port, at.host.c_str(), true);
  };
  caf::expected<uint16_t> bound{uint16_t{0}};
  if (settings.test_v2) {
    auto face = sys.spawn(cluster_face_v2_impl, std::move(face_cfg), std::move(supervisor),
                          std::move(cluster));
    face_ = face;
    bound = publish(face); // peers see the v2 interface
  } else {
    face_ = sys.spawn(cluster_face_impl, std::move(face_cfg), std::move(supervisor),
                      std::move(cluster));
    bound = publish(face_);
  }
  if (!bound) {
    caf::anon_send_exit(face_, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot listen for cluster links on " + settings.listen + ": "
                             + sys.render(bound.error()));
  }
  port_ = *bound;
  cluster_endpoint advertised{at.host, port_};
  if (!settings.advertise.empty()) {
    advertised = parse_cluster_endpoint(settings.advertise, "--cluster-advertise", true);
    if (advertised.port == 0)
      advertised.port = port_;
  }
  endpoint_ = advertised.text();
}

cluster_publisher::~cluster_publisher() {
  // The middleman's unpublish closes a port opened by openssl::publish too
  // (openssl::unpublish does not compile in 0.17.6, plan F2).
  sys_.middleman().unpublish(face_, port_);
  caf::anon_send_exit(face_, caf::exit_reason::user_shutdown);
}

} // namespace leasehold
