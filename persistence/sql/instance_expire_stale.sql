-- Marks STOPPED the instances that stopped heartbeating: active ones silent
-- for longer than the stale threshold ($1 ms), and STOPPING ones silent for
-- longer than the stop timeout ($2 ms). Run inside registration, so a
-- crashed singleton never blocks its successor for longer than that.
UPDATE leasehold.worker_instances
SET status = 'STOPPED', stopped_at = now()
WHERE (status IN ('STARTING', 'RUNNING')
       AND last_heartbeat_at < now() - $1::bigint * interval '1 millisecond')
   OR (status = 'STOPPING'
       AND last_heartbeat_at < now() - $2::bigint * interval '1 millisecond')
RETURNING worker_id
