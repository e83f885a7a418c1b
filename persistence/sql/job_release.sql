-- Gives a running job back to the queue at once, under the same ownership
-- guard as every other write: the attempt ran out of time while its node
-- was stopping. The attempt's run row is written with outcome $4
-- (stopping_timeout).
WITH released AS (
  UPDATE leasehold.jobs AS j
  SET status = 'queued', locked_by = NULL, heartbeat_at = NULL,
      run_at = now(), updated_at = now(),
      last_error = 'released: ' || $4, last_error_code = $4
  FROM unnest($2::bigint[], $3::integer[]) AS l (job_id, attempt)
  WHERE j.id = l.job_id AND j.locked_by = $1 AND j.attempts = l.attempt
    AND j.status = 'running'
    AND leasehold.instance_active($1) -- a revoked worker writes nothing
  RETURNING j.id, j.attempts, j.trace_id, j.locked_at
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error)
  SELECT id, attempts, $1, trace_id, locked_at, now(), $4, 'released: ' || $4
  FROM released
)
SELECT id FROM released
