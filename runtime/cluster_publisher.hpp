#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/cluster_face.hpp"
#include "runtime/cluster_config.hpp"

/// Publishes a node's cluster face through CAF's middleman (TLS when the
/// settings have certificates) and takes it down again.
namespace leasehold {

class cluster_publisher {
public:
  /// Spawns the face and publishes it at `settings.listen`. Throws
  /// std::runtime_error when the address cannot be bound.
  cluster_publisher(caf::actor_system& sys, const cluster_settings& settings,
                    cluster_face_config face_cfg, supervisor_actor supervisor,
                    cluster_actor cluster);
  /// Closes the port, then ends the face.
  ~cluster_publisher();
  cluster_publisher(const cluster_publisher&) = delete;
  cluster_publisher& operator=(const cluster_publisher&) = delete;

  uint16_t port() const { return port_; }
  /// What peers connect to: --cluster-advertise, else the listen host and
  /// the bound port.
  const std::string& endpoint() const { return endpoint_; }
  const cluster_face_v1& face() const { return face_; }

private:
  caf::actor_system& sys_;
  cluster_face_v1 face_;
  uint16_t port_ = 0;
  std::string endpoint_;
};

} // namespace leasehold
