-- Renews this instance's heartbeat, in the same transaction as its lease
-- renewals. Zero rows means another node marked us STOPPED (for example
-- after a long pause): we no longer own ourselves.
UPDATE leasehold.worker_instances
SET last_heartbeat_at = now()
WHERE worker_id = $1 AND status IN ('STARTING', 'RUNNING', 'STOPPING')
RETURNING status
