#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

/// Every default of leasehold, in one place; --help and validation read
/// these same constants.
namespace leasehold::defaults {

using namespace std::chrono_literals;

inline constexpr const char* worker_base = "leasehold";
inline constexpr const char* queue = "default";
inline constexpr int32_t concurrency = 10;
inline constexpr const char* worker_type = "default";
inline constexpr auto stale_after = std::chrono::milliseconds{30s};
inline constexpr auto heartbeat_interval = std::chrono::milliseconds{10s};
inline constexpr auto lease_ttl = std::chrono::milliseconds{30s};
inline constexpr auto poll_interval = std::chrono::milliseconds{1s};
inline constexpr auto reap_interval = std::chrono::milliseconds{5s};
inline constexpr auto stop_timeout = std::chrono::milliseconds{60s};
inline constexpr auto retry_base = std::chrono::milliseconds{1s};
inline constexpr auto retry_cap = std::chrono::milliseconds{1h};
inline constexpr auto exec_timeout = std::chrono::milliseconds{5min};
inline constexpr auto attempt_timeout = std::chrono::milliseconds{30min};
inline constexpr int32_t max_attempts = 25;
/// Jobs claimed ahead of the handlers, per queue: at most this many, and
/// about prefetch_horizon of work at the rate attempts end (see
/// actors/prefetch_buffer.hpp); one left waiting prefetch_max_hold is
/// given back.
inline constexpr int32_t prefetch = 500;
inline constexpr auto prefetch_horizon = std::chrono::milliseconds{100};
inline constexpr auto prefetch_max_hold = std::chrono::milliseconds{1s};
/// A completion waits this long for others before the node writes it: slow
/// handlers end a few at a time, and one statement per ending cost 10 ms
/// handlers 218 us of Postgres CPU per job against 142 us with 3ms
/// (benchmarks/RESULTS.md). Handlers' slots do not wait for it.
inline constexpr auto completion_linger = std::chrono::milliseconds{2};
/// Snoozes a job may take before it is dead (snooze_limit): a handler that
/// always answers "not now" cannot keep a job forever.
inline constexpr int32_t max_snoozes = 100;
/// Largest output an attempt keeps (its compact JSON text): 64 KiB. A larger
/// one is kept as its head, marked truncated.
inline constexpr size_t max_output_bytes = size_t{64} << 10;
/// Longest progress message, in bytes.
inline constexpr size_t max_progress_message_bytes = 200;
/// How often a node looks for due schedule ticks; a schedule more than
/// schedule_late behind its tick is named by /health (SCHEDULE_LATE).
inline constexpr auto schedule_interval = std::chrono::milliseconds{500};
inline constexpr auto schedule_late = std::chrono::milliseconds{30s};
/// How long history is kept before a node's pruner deletes it (migration
/// 025); 0 keeps it forever. One node at a time prunes, every
/// prune_interval, in batches of prune_batch rows, each its own
/// transaction, for at most prune_budget per pass (more follows at once).
namespace retention {
inline constexpr auto succeeded = std::chrono::milliseconds{24h * 7};
inline constexpr auto dead = std::chrono::milliseconds{24h * 30};
inline constexpr auto runs = std::chrono::milliseconds{24h * 30};
inline constexpr auto instances = std::chrono::milliseconds{24h * 7};
inline constexpr auto violations = std::chrono::milliseconds{24h * 30};
} // namespace retention
inline constexpr auto prune_interval = std::chrono::milliseconds{1min};
inline constexpr int32_t prune_batch = 1000;
/// A pass this long at most, then the next at once: a stopping node waits
/// for the end of its pass (its actor is blocked in it), so keep it short.
inline constexpr auto prune_budget = std::chrono::milliseconds{2s};
/// A node's pruner rests at least this long after each batch (about 35 ms
/// of Postgres work for 1,000 rows on an idle database) ...
inline constexpr auto prune_pause = std::chrono::milliseconds{200};
/// ... and at least 9 times the batch's own time: batches take at most 10%
/// of the pruner's time, and less of a busy database's, whose load slows
/// them (benchmarks/RESULTS.md section R). `leasehold prune` does not rest
/// unless asked (--pause, --share).
inline constexpr int32_t prune_share_percent = 10;
inline constexpr const char* http_listen = "127.0.0.1:8080";
inline constexpr auto alert_lag = std::chrono::milliseconds{300s};
inline constexpr int64_t alert_dead = 5;
/// Largest payload (its compact JSON text) accepted anywhere: 1 MiB.
inline constexpr size_t max_payload_bytes = size_t{1} << 20;

/// What one HTTP client may cost a node (runtime/http_server.hpp).
namespace http {
inline constexpr size_t head_bytes = 32 * 1024;
inline constexpr size_t body_bytes = 64 * 1024;
inline constexpr auto request_time = std::chrono::milliseconds{10s};
inline constexpr auto idle_time = std::chrono::milliseconds{5s};
inline constexpr auto answer_time = std::chrono::milliseconds{10s};
inline constexpr auto contended_time = std::chrono::milliseconds{500ms};
inline constexpr size_t threads = 64;
inline constexpr size_t waiting = 512;
inline constexpr size_t requests_per_connection = 100;
} // namespace http

} // namespace leasehold::defaults
