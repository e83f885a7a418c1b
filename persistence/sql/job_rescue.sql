-- Requeues running jobs whose owner is gone, judged by the owner's own
-- lease TTL ($1 ms stands in for owners that recorded none):
--  * the owner's registration was revoked (STOPPED): at once, since a
--    revoked worker id can renew and write nothing any more;
--  * the owner has no registration, or is still registered but neither it
--    nor the job was renewed for its TTL (it died, hung or lost the
--    database). A live owner's jobs are never taken: a job it cannot renew
--    because another session holds the row locked is not its fault.
-- Fair liveness: silence only counts while the database was serving. $4 is
-- how long this reaper has seen the database answer without a break (ms),
-- capped by Postgres's own uptime; a reaper that has watched for less than
-- an owner's TTL cannot judge it yet.
-- Retried with backoff ($2 ms base, doubling, capped at $3 ms); when
-- attempts are exhausted the job fails with ttl_exceeded. The expired
-- attempt's run row is written, with outcome 'expired' and the old owner.
-- SKIP LOCKED lets every node run this concurrently without double work;
-- the old owner's later writes are fenced out because the job is no longer
-- 'running' under its attempt.
WITH observed AS (
  SELECT least($4::bigint,
               (extract(epoch FROM now() - pg_postmaster_start_time())
                * 1000)::bigint) AS ms
), expired AS MATERIALIZED (
  SELECT j.id, j.locked_by
  FROM leasehold.jobs AS j
  LEFT JOIN leasehold.worker_instances AS w ON w.worker_id = j.locked_by
  CROSS JOIN observed AS o
  WHERE j.status = 'running'
    AND (w.status = 'STOPPED'
         OR (coalesce(j.heartbeat_at, '-infinity')
               < now() - coalesce(w.lease_ttl_ms, $1::bigint) * interval '1 millisecond'
             AND o.ms >= coalesce(w.lease_ttl_ms, $1::bigint)
             AND (w.worker_id IS NULL
                  OR w.last_heartbeat_at < now() - coalesce(w.lease_ttl_ms, $1::bigint)
                                                   * interval '1 millisecond')))
  ORDER BY j.heartbeat_at
  LIMIT 1000
  FOR UPDATE OF j SKIP LOCKED
), rescued AS (
  UPDATE leasehold.jobs AS j
  SET status = CASE WHEN j.attempts >= j.max_attempts
               THEN 'failed' ELSE 'queued' END,
      last_error = 'lease expired: ' || j.locked_by
                   || ' sent no heartbeat within the lease TTL',
      last_error_code = CASE WHEN j.attempts >= j.max_attempts
                        THEN 'ttl_exceeded' ELSE 'lease_expired' END,
      run_at = CASE WHEN j.attempts >= j.max_attempts THEN j.run_at
               ELSE now() + least($3::bigint, $2::bigint
                                  * power(2, least(j.attempts - 1, 30)))
                            * interval '1 millisecond' END,
      finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
      locked_by = CASE WHEN j.attempts >= j.max_attempts THEN j.locked_by END,
      heartbeat_at = NULL,
      updated_at = now()
  -- An id array, not a join: the planner could otherwise hash-join a scan
  -- of the whole table (see job_claim.sql).
  WHERE j.id = ANY (ARRAY(SELECT id FROM expired))
  RETURNING j.id, j.attempts, j.trace_id, j.locked_at, j.progress
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error,
                                  progress)
  -- coalesce: a row marked running by hand may lack locked_by or
  -- locked_at, and one such row must not block every rescue.
  SELECT r.id, r.attempts, coalesce(e.locked_by, 'unknown'), r.trace_id,
         coalesce(r.locked_at, now()), now(),
         'expired', 'lease expired without a heartbeat',
         leasehold.attempt_progress(r.progress, r.attempts, NULL) -- how far it got
  FROM rescued AS r JOIN expired AS e ON e.id = r.id
)
SELECT id FROM rescued
