-- Gives back the running jobs worker $1 holds under its name but runs no
-- attempt for: not among its leases ($2 ids) and not renewed for its lease
-- TTL ($3 ms). A claim whose reply timed out, or an attempt whose outcome
-- could not be written, leaves such jobs; reapers leave a live owner's jobs
-- alone, so the owner itself must. Same outcome as an expired lease.
WITH unknown AS MATERIALIZED (
  SELECT id, locked_by FROM leasehold.jobs
  WHERE locked_by = $1 AND status = 'running'
    AND heartbeat_at < now() - $3::bigint * interval '1 millisecond'
    AND id <> ALL ($2::bigint[])
  FOR UPDATE SKIP LOCKED
), abandoned AS (
  UPDATE leasehold.jobs AS j
  SET status = CASE WHEN j.attempts >= j.max_attempts
               THEN 'failed' ELSE 'queued' END,
      last_error = 'lease abandoned: ' || j.locked_by
                   || ' ran no attempt for it (a claim reply or an outcome'
                   || ' was lost)',
      last_error_code = CASE WHEN j.attempts >= j.max_attempts
                        THEN 'ttl_exceeded' ELSE 'lease_expired' END,
      run_at = CASE WHEN j.attempts >= j.max_attempts THEN j.run_at
               ELSE now() END,
      finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
      locked_by = CASE WHEN j.attempts >= j.max_attempts THEN j.locked_by END,
      heartbeat_at = NULL,
      updated_at = now()
  WHERE j.id = ANY (ARRAY(SELECT id FROM unknown))
  RETURNING j.id, j.attempts, j.trace_id, j.locked_at
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error)
  SELECT a.id, a.attempts, $1, a.trace_id, coalesce(a.locked_at, now()), now(),
         'expired', 'lease abandoned by its own node: no attempt ran for it'
  FROM abandoned AS a
)
SELECT id FROM abandoned
