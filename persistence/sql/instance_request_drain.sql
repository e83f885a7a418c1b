-- Asks a live instance to drain (migration 027): it sees the request at its
-- next heartbeat. Replies with the worker id, or nothing if there is no
-- such live instance.
UPDATE leasehold.worker_instances
SET drain_requested_at = coalesce(drain_requested_at, now())
WHERE worker_id = $1 AND status IN ('STARTING', 'RUNNING', 'STOPPING')
RETURNING worker_id
