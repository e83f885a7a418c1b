-- 015: each instance is judged by its own terms, and a revoked instance
-- writes nothing.
--
-- A node records its own lease TTL, stale threshold and stop timeout when it
-- registers and at every heartbeat, so reapers judge it by those and not by
-- their own settings (a node started with --lease-ttl 2m is not robbed by
-- nodes at the default). NULL, for rows written before this migration:
-- the reaper's own settings apply.
ALTER TABLE leasehold.worker_instances
  ADD COLUMN lease_ttl_ms bigint CHECK (lease_ttl_ms > 0),
  ADD COLUMN stale_after_ms bigint CHECK (stale_after_ms > 0),
  ADD COLUMN stop_timeout_ms bigint CHECK (stop_timeout_ms > 0);

-- True while worker $1 may claim, renew and complete: its registration is
-- STARTING, RUNNING or STOPPING. Once another node marked it STOPPED, every
-- claim and write of that worker id matches nothing. One primary-key probe,
-- evaluated once per statement.
CREATE FUNCTION leasehold.instance_active(worker text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT EXISTS (SELECT 1 FROM leasehold.worker_instances
                 WHERE worker_id = worker
                   AND status IN ('STARTING', 'RUNNING', 'STOPPING'))
$$;
