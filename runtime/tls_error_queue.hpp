#pragma once

/// A guard around CAF 0.17.6's OpenSSL sessions (docs/cluster-plan.md,
/// F12). CAF's session reads SSL_get_error() after each TLS call but never
/// empties OpenSSL's per-thread error queue, and every session of a node
/// runs on the one multiplexer thread. A failed handshake (a plain TCP
/// client, a probe, a certificate from another CA) leaves its error queued,
/// so the next read on any healthy link is taken for a TLS error and that
/// link is dropped: one stray connection broke every link of the node.
/// OpenSSL requires the queue to be empty before each TLS I/O call; this
/// translation unit defines SSL_read, SSL_write, SSL_accept and
/// SSL_connect, which clear it and call OpenSSL's own (ELF symbol
/// interposition: the program's definitions come before libssl's).
namespace leasehold {

/// True when the guard is in the program; calling it also makes sure the
/// linker keeps it (cluster_config calls it).
bool tls_error_queue_guarded();

} // namespace leasehold
