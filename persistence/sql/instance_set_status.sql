-- Moves this instance from one of the states in $3 (a text[]) to $2, only
-- if the row is still ours in such a state: a node marked STOPPED by
-- another must not bring itself back to life.
UPDATE leasehold.worker_instances
SET status = $2,
    stopping_at = CASE WHEN $2 = 'STOPPING' THEN now() ELSE stopping_at END,
    stopped_at = CASE WHEN $2 = 'STOPPED' THEN now() ELSE stopped_at END,
    last_heartbeat_at = now()
WHERE worker_id = $1 AND status = ANY ($3::text[])
RETURNING status
