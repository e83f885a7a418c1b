-- Requeues running jobs whose lease expired: no heartbeat for longer than
-- the lease TTL ($1 ms), because their node died, hung or lost the
-- database. Retried with backoff ($2 ms base, doubling, capped at $3 ms);
-- when attempts are exhausted the job fails with ttl_exceeded. The expired
-- attempt's run row is written, with outcome 'expired' and the old owner.
-- SKIP LOCKED lets every node run this concurrently without double work;
-- the old owner's later writes are fenced out because the job is no longer
-- 'running' under its attempt.
WITH expired AS MATERIALIZED (
  SELECT id, locked_by FROM leasehold.jobs
  WHERE status = 'running'
    AND heartbeat_at < now() - $1::bigint * interval '1 millisecond'
  ORDER BY heartbeat_at
  LIMIT 1000
  FOR UPDATE SKIP LOCKED
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
  RETURNING j.id, j.attempts, j.trace_id, j.locked_at
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error)
  -- coalesce: a row marked running by hand may lack locked_by or
  -- locked_at, and one such row must not block every rescue.
  SELECT r.id, r.attempts, coalesce(e.locked_by, 'unknown'), r.trace_id,
         coalesce(r.locked_at, now()), now(),
         'expired', 'lease expired without a heartbeat'
  FROM rescued AS r JOIN expired AS e ON e.id = r.id
)
SELECT id FROM rescued
