#include "runtime/cluster_config.hpp"

#include <arpa/inet.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "messages/registration.hpp"
#include "runtime/duration.hpp"
#include "runtime/secrets.hpp"
#include "runtime/tls_error_queue.hpp"

namespace leasehold {

namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1
         || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string openssl_error() {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// The TLS files as CAF will use them, checked now: CAF reads them at the
// first connection and terminates the process when one does not load.
void check_tls_files(const cluster_settings& s) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()),
                                                       &SSL_CTX_free};
  if (!ctx)
    throw std::invalid_argument("cannot start TLS: " + openssl_error());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), s.cert.c_str()) != 1)
    throw std::invalid_argument("invalid --cluster-cert " + s.cert + ": " + openssl_error());
  // OpenSSL checks the key against the certificate as it loads it.
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), s.key.c_str(), SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key(ctx.get()) != 1)
    throw std::invalid_argument("invalid --cluster-key " + s.key
                                + ": cannot be read, or does not match --cluster-cert "
                                + s.cert + " (" + openssl_error() + ")");
  if (SSL_CTX_load_verify_locations(ctx.get(), s.ca.c_str(), nullptr) != 1)
    throw std::invalid_argument("invalid --cluster-ca " + s.ca + ": " + openssl_error());
}

} // namespace

std::string cluster_endpoint::text() const {
  auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

cluster_endpoint parse_cluster_endpoint(const std::string& text, const std::string& flag,
                                        bool port_optional) {
  auto fail = [&](const std::string& rule) {
    return std::invalid_argument("invalid " + flag + " " + text + ": " + rule);
  };
  cluster_endpoint out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos)
      throw fail("an IPv6 address needs its closing ]");
    out.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':')
        throw fail("expected :PORT after ]");
      port = text.substr(close + 2);
    }
  } else if (auto colon = text.rfind(':'); colon != std::string::npos
                                           && text.find(':') == colon) {
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  } else {
    out.host = text;
  }
  if (!is_ip_literal(out.host))
    throw fail("expected HOST:PORT with an IP address as HOST (no names: "
               "resolving one would block the node's links)");
  if (port.empty() && !port_optional)
    throw fail("expected HOST:PORT");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos
        || std::stoi(port) > 65535)
      throw fail("the port must be a number from 0 to 65535");
    out.port = static_cast<uint16_t>(std::stoi(port));
  }
  return out;
}

void cluster_settings::validate() const {
  if (!enabled())
    return;
  auto at = parse_cluster_endpoint(listen, "--cluster-listen");
  if (!advertise.empty())
    parse_cluster_endpoint(advertise, "--cluster-advertise", true);
  int given = !cert.empty() + !key.empty() + !ca.empty();
  if (given != 0 && given != 3)
    throw std::invalid_argument(
      "--cluster-cert, --cluster-key and --cluster-ca go together: give all three or none");
  if (!tls() && !insecure && !is_loopback_host(at.host))
    throw std::invalid_argument(
      "invalid --cluster-listen " + listen
      + ": other hosts could reach it; secure the links with --cluster-cert, "
        "--cluster-key and --cluster-ca, or accept plain links with --cluster-insecure");
  if (heartbeat.count() < 50 || heartbeat.count() > 10000)
    throw std::invalid_argument("invalid --cluster-heartbeat " + format_duration(heartbeat)
                                + ": must be between 50ms and 10s");
  if (tls())
    check_tls_files(*this);
}

void apply_cluster_settings(caf::actor_system_config& cfg, const cluster_settings& s) {
  cfg.load<caf::io::middleman>();
  if (s.tls()) {
    if (!tls_error_queue_guarded())
      throw std::runtime_error("cannot find OpenSSL's SSL_read behind the TLS guard");
    // After the middleman: the OpenSSL module runs on top of it.
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = s.cert;
    cfg.openssl_key = s.key;
    cfg.openssl_cafile = s.ca;
  }
  // Heartbeats are what finds a paused or cut-off peer; without them a
  // link to it, and a connect to it, would wait forever (F5).
  cfg.set("middleman.heartbeat-interval", caf::timespan{s.heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{s.heartbeat * 3});
  cfg.set("middleman.app-identifiers", std::vector<std::string>{cluster_protocol});
  if (s.test_v2)
    register_cluster_v2(cfg);
}

void check_cluster_applied(caf::actor_system& sys, const cluster_settings& s) {
  const auto& cfg = sys.config();
  auto beat = caf::get_or(cfg, "middleman.heartbeat-interval", caf::timespan{0});
  auto timeout = caf::get_or(cfg, "middleman.connection-timeout", caf::timespan{0});
  auto ids = caf::get_or(cfg, "middleman.app-identifiers", std::vector<std::string>{});
  if (beat != caf::timespan{s.heartbeat} || timeout != caf::timespan{s.heartbeat * 3}
      || ids != std::vector<std::string>{cluster_protocol})
    throw std::runtime_error("the cluster settings did not reach CAF's middleman");
  if (s.tls() && cfg.openssl_certificate != s.cert)
    throw std::runtime_error("the TLS settings did not reach CAF's OpenSSL module");
}

} // namespace leasehold
