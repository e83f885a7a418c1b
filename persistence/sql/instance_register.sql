-- Inserts this node as STARTING, with its own terms ($8 lease TTL, $9 stale
-- threshold, $10 stop timeout, ms). For a singleton type the partial unique
-- index rejects a second active instance: unique_violation, nothing written.
INSERT INTO leasehold.worker_instances
  (worker_id, worker_type, singleton, status, hostname, pid, version, metadata,
   lease_ttl_ms, stale_after_ms, stop_timeout_ms)
VALUES ($1, $2, $3::boolean, 'STARTING', $4, $5::integer, $6, $7::jsonb,
        $8::bigint, $9::bigint, $10::bigint)
