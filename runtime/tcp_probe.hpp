#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace leasehold {

/// True if a TCP connection to `host` (an IP literal) and `port` opens
/// within `timeout`; the connection is closed at once. Cluster links probe
/// a peer with it before CAF's middleman connects, because the middleman
/// connects with a blocking call that would stall every other link while
/// a peer drops its SYNs (docs/cluster-plan.md, F4).
bool tcp_probe(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

} // namespace leasehold
