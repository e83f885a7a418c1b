-- Marks STOPPED the instances that stopped heartbeating: active ones silent
-- for longer than their own stale threshold, STOPPING ones silent for longer
-- than their own stop timeout ($1 and $2 ms stand in for rows that recorded
-- none).
-- Fair liveness: silence only counts while the database was serving. $3 is
-- how long the caller has seen the database answer without a break (ms);
-- Postgres's own uptime caps it, so time the server was down or restarting
-- is nobody's fault. A caller that has watched for less than an instance's
-- threshold cannot judge that instance yet.
WITH observed AS (
  SELECT least($3::bigint,
               (extract(epoch FROM now() - pg_postmaster_start_time())
                * 1000)::bigint) AS ms
)
UPDATE leasehold.worker_instances AS w
SET status = 'STOPPED', stopped_at = now()
FROM observed AS o
WHERE (w.status IN ('STARTING', 'RUNNING')
       AND w.last_heartbeat_at < now() - coalesce(w.stale_after_ms, $1::bigint)
                                         * interval '1 millisecond'
       AND o.ms >= coalesce(w.stale_after_ms, $1::bigint))
   OR (w.status = 'STOPPING'
       AND w.last_heartbeat_at < now() - coalesce(w.stop_timeout_ms, $2::bigint)
                                         * interval '1 millisecond'
       AND o.ms >= coalesce(w.stop_timeout_ms, $2::bigint))
RETURNING w.worker_id
