-- Marks a batch of attempts succeeded for worker $1. $2 is a JSON array of
-- {id, attempt}. The guard (locked_by, attempts, running) stops a stale
-- owner: a lease taken away matches zero rows and nothing is written.
-- Trace policy: a job created at or after cutoff $3 must have a trace_id
-- when it succeeds. Violations are recorded; with $4 (strict) the attempt
-- fails instead of succeeding.
WITH input AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS t (id bigint, attempt integer)
), done AS (
  UPDATE leasehold.jobs AS j
  SET status = CASE WHEN j.trace_id IS NULL AND j.created_at >= $3::timestamptz
                         AND $4::boolean
               THEN 'failed' ELSE 'succeeded' END,
      last_error = CASE WHEN j.trace_id IS NULL
                             AND j.created_at >= $3::timestamptz AND $4::boolean
                   THEN 'succeeded without a trace_id (strict trace policy)'
                   END,
      last_error_code = CASE WHEN j.trace_id IS NULL
                                  AND j.created_at >= $3::timestamptz
                                  AND $4::boolean
                        THEN 'trace_policy' END,
      finished_at = now(), updated_at = now()
  FROM input AS i
  WHERE j.id = i.id AND j.locked_by = $1 AND j.attempts = i.attempt
    AND j.status = 'running'
  RETURNING j.id, j.attempts,
            j.trace_id IS NULL AND j.created_at >= $3::timestamptz AS violates
), runs AS (
  UPDATE leasehold.job_runs AS r
  SET finished_at = now(),
      outcome = CASE WHEN d.violates AND $4::boolean
                THEN 'failed' ELSE 'succeeded' END,
      error = CASE WHEN d.violates AND $4::boolean
              THEN 'succeeded without a trace_id (strict trace policy)' END
  FROM done AS d
  WHERE r.job_id = d.id AND r.attempt = d.attempts
), violations AS (
  INSERT INTO leasehold.policy_violations (job_id, attempt, worker_id, policy,
                                           detail)
  SELECT id, attempts, $1, 'trace_id_required',
         'job created at or after the trace-id cutoff succeeded without one'
  FROM done WHERE violates
)
SELECT id, violates FROM done
