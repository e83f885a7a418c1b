-- Gives a running job back to the queue at once, under the same ownership
-- guard as every other write: the attempt ran out of time while its node
-- was stopping. The attempt's run row gets outcome $4 (stopping_timeout).
WITH released AS (
  UPDATE leasehold.jobs AS j
  SET status = 'queued', locked_by = NULL, heartbeat_at = NULL,
      run_at = now(), updated_at = now(),
      last_error = 'released: ' || $4, last_error_code = $4
  FROM unnest($2::bigint[], $3::integer[]) AS l (job_id, attempt)
  WHERE j.id = l.job_id AND j.locked_by = $1 AND j.attempts = l.attempt
    AND j.status = 'running'
  RETURNING j.id, j.attempts
), runs AS (
  UPDATE leasehold.job_runs AS r
  SET finished_at = now(), outcome = $4, error = 'released: ' || $4
  FROM released
  WHERE r.job_id = released.id AND r.attempt = released.attempts
)
SELECT id FROM released
