-- Requeues running jobs whose lease expired: no heartbeat for longer than
-- the lease TTL ($1 ms), because their node died, hung or lost the
-- database. Retried with backoff ($2 ms base, doubling, capped at $3 ms);
-- when attempts are exhausted the job fails with ttl_exceeded. The expired
-- attempt's run row gets outcome 'expired'. SKIP LOCKED lets every node run
-- this concurrently without double work; the old owner's later writes are
-- fenced out because the job is no longer 'running' under its attempt.
WITH rescued AS (
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
  WHERE j.id = ANY (ARRAY(
    SELECT id FROM leasehold.jobs
    WHERE status = 'running'
      AND heartbeat_at < now() - $1::bigint * interval '1 millisecond'
    ORDER BY heartbeat_at
    LIMIT 1000
    FOR UPDATE SKIP LOCKED))
  RETURNING j.id, j.attempts
), runs AS (
  UPDATE leasehold.job_runs AS r
  SET finished_at = now(), outcome = 'expired',
      error = 'lease expired without a heartbeat'
  FROM rescued
  WHERE r.job_id = rescued.id AND r.attempt = rescued.attempts
    AND r.outcome IS NULL
)
SELECT id FROM rescued
