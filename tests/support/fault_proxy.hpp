#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

/// A TCP proxy on loopback that injects network faults between one client
/// (a node) and its server (Postgres), for tests and the chaos script.
/// Plain POSIX sockets, one thread of its own; no leasehold code.
namespace leasehold::test {

class fault_proxy {
public:
  /// Listens on 127.0.0.1:`listen_port` (0: any free port) and forwards
  /// every connection to `target_host`:`target_port`: an IPv4 address, or,
  /// as in libpq, a directory holding Postgres's unix socket for that port.
  fault_proxy(uint16_t target_port, const std::string& target_host = "127.0.0.1",
              uint16_t listen_port = 0);
  ~fault_proxy(); // closes every connection, joins the thread
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  uint16_t port() const;

  // Each call takes effect before it returns.

  /// Forwards both ways at once (also ends a blackhole or a delay).
  void pass();
  /// A silent partition: nothing moves either way, no connection is closed,
  /// new ones are accepted but not connected onwards. Bytes are held, not
  /// thrown away, as TCP retransmits them: after pass() they arrive, like
  /// after a partition heals.
  void blackhole();
  /// Closes every current connection with an RST both ways (SO_LINGER 0),
  /// then passes again.
  void reset();
  /// Passes, each chunk held back `ms` in each direction.
  void delay(std::chrono::milliseconds ms);

  /// One line command: "pass", "blackhole", "reset" or "delay MS". Returns
  /// "ok", or "error: ..." for anything else.
  std::string command(const std::string& line);

  /// Client connections open now.
  int connections() const;
  /// Connections accepted so far.
  int64_t accepted() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace leasehold::test
