-- Marks STOPPED the instances that stopped heartbeating: active ones silent
-- for longer than their own stale threshold, STOPPING ones silent for longer
-- than their own stop timeout ($1 and $2 ms stand in for rows that recorded
-- none).
-- Fair liveness: silence only counts while the database was serving. $3 is
-- how long the caller has seen the database answer without a break (ms);
-- Postgres's own uptime caps it, so time the server was down or restarting
-- is nobody's fault. A caller that has watched for less than an instance's
-- threshold cannot judge that instance yet.
-- SKIP LOCKED: a row another session holds locked (a paused node's
-- unfinished statement) is judged at a later sweep, once Postgres ended
-- that session (idle_in_transaction_session_timeout), rather than failing
-- the whole sweep.
WITH observed AS (
  SELECT least($3::bigint,
               (extract(epoch FROM now() - pg_postmaster_start_time())
                * 1000)::bigint) AS ms
), stale AS (
  SELECT w.worker_id
  FROM leasehold.worker_instances AS w
  CROSS JOIN observed AS o
  WHERE (w.status IN ('STARTING', 'RUNNING')
         AND w.last_heartbeat_at < now() - coalesce(w.stale_after_ms, $1::bigint)
                                           * interval '1 millisecond'
         AND o.ms >= coalesce(w.stale_after_ms, $1::bigint))
     OR (w.status = 'STOPPING'
         AND w.last_heartbeat_at < now() - coalesce(w.stop_timeout_ms, $2::bigint)
                                           * interval '1 millisecond'
         AND o.ms >= coalesce(w.stop_timeout_ms, $2::bigint))
  FOR UPDATE OF w SKIP LOCKED
)
UPDATE leasehold.worker_instances AS w
SET status = 'STOPPED', stopped_at = now()
WHERE w.worker_id IN (SELECT worker_id FROM stale)
RETURNING w.worker_id
