-- Renews this instance's heartbeat and records its own terms ($2 lease TTL,
-- $3 stale threshold, $4 stop timeout, all ms): reapers judge it by these.
-- Zero rows means another node marked us STOPPED (for example after a long
-- pause): we no longer own ourselves. The second column says whether an
-- operator asked this instance to drain (migration 027). Its own statement and transaction, so
-- a lease row locked by someone else never holds up the registration.
UPDATE leasehold.worker_instances
SET last_heartbeat_at = now(), lease_ttl_ms = $2::bigint,
    stale_after_ms = $3::bigint, stop_timeout_ms = $4::bigint
WHERE worker_id = $1 AND status IN ('STARTING', 'RUNNING', 'STOPPING')
RETURNING status, drain_requested_at IS NOT NULL AS drain
