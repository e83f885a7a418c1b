#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

/// How a node (and `leasehold cluster`) joins the cluster's CAF links:
/// where it listens, what it advertises, and the TLS files that secure
/// them. Shared by the node and the CLI, so both speak the same protocol.
/// Only IP literals are taken: a host name would make CAF's middleman
/// block in getaddrinfo (docs/cluster-plan.md, F4).
namespace leasehold {

/// The application id every leasehold node presents to CAF's middleman: a
/// node of another major protocol is refused at the handshake (F10).
inline constexpr const char* cluster_protocol = "leasehold-cluster/1";

struct cluster_endpoint {
  std::string host;
  uint16_t port = 0;
  std::string text() const; // "host:port", IPv6 in brackets
};

struct cluster_settings {
  /// "HOST:PORT" (port 0: any free one), or "off".
  std::string listen = "127.0.0.1:0";
  /// What peers connect to, "HOST[:PORT]"; empty: the listen address and
  /// the bound port. Set it when peers reach this node through a proxy.
  std::string advertise;
  /// PEM files: all three, or none. With them every link is mutual TLS.
  std::string cert;
  std::string key;
  std::string ca;
  /// A listen address other hosts can reach needs TLS, unless this is set.
  bool insecure = false;
  /// The middleman's heartbeat; a silent peer is dropped after 3 of them.
  /// Must be the same on every node (a node with heartbeats drops a peer
  /// without them).
  std::chrono::milliseconds heartbeat{200};
  /// Also speak version 2 of the cluster protocol (a test of rolling
  /// deploys: a newer node's added message; hidden from --help).
  bool test_v2 = false;

  bool enabled() const { return listen != "off"; }
  bool tls() const { return !cert.empty(); }
  /// Throws std::invalid_argument naming the flag, value and rule; checks
  /// that the TLS files load and that the key matches the certificate
  /// (CAF reads them only at the first connection, and aborts there).
  void validate() const;
};

/// Parses "HOST:PORT" or "[V6]:PORT" with an IP literal host. `flag` names
/// the option in the error.
cluster_endpoint parse_cluster_endpoint(const std::string& text, const std::string& flag,
                                        bool port_optional = false);

/// Loads CAF's middleman (and OpenSSL module when TLS is on) into `cfg`
/// and sets the heartbeat, the application id and the TLS files.
void apply_cluster_settings(caf::actor_system_config& cfg, const cluster_settings& s);

/// Reads back what apply_cluster_settings set: CAF only prints a warning
/// for a key it does not take. Throws std::runtime_error on a mismatch.
void check_cluster_applied(caf::actor_system& sys, const cluster_settings& s);

} // namespace leasehold
