-- Records a batch of failed attempts for worker $1. $2 is a JSON array of
-- {id, attempt, error, code, final, delay_ms, buffered_ms} (buffered_ms: see
-- job_complete_success.sql). Same ownership guard as
-- success. A failure goes back to 'queued' after delay_ms while attempts
-- remain; when attempts are exhausted (or final is set, e.g. a precondition
-- failure) it ends 'failed' and the job is dead. Each attempt that ends
-- here gets its one job_runs row.
WITH input AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb)
    AS t (id bigint, attempt integer, error text, code text, final boolean,
          delay_ms bigint, buffered_ms bigint)
), done AS (
  UPDATE leasehold.jobs AS j
  SET status = CASE WHEN i.final OR j.attempts >= j.max_attempts
               THEN 'failed' ELSE 'queued' END,
      last_error = i.error,
      last_error_code = CASE WHEN NOT i.final AND j.attempts >= j.max_attempts
                        THEN 'max_attempts_exceeded' ELSE i.code END,
      run_at = CASE WHEN i.final OR j.attempts >= j.max_attempts THEN j.run_at
               ELSE now() + i.delay_ms * interval '1 millisecond' END,
      finished_at = CASE WHEN i.final OR j.attempts >= j.max_attempts
                    THEN now() END,
      locked_by = CASE WHEN i.final OR j.attempts >= j.max_attempts
                  THEN j.locked_by END,
      heartbeat_at = NULL,
      updated_at = now()
  FROM input AS i
  WHERE j.id = i.id AND j.locked_by = $1 AND j.attempts = i.attempt
    AND j.status = 'running'
    AND leasehold.instance_active($1) -- a revoked worker writes nothing
  RETURNING j.id, j.attempts, j.trace_id,
            j.locked_at + coalesce(i.buffered_ms, 0) * interval '1 millisecond' AS started_at,
            i.error,
            j.run_id IS NOT NULL AS in_run
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error)
  SELECT id, attempts, $1, trace_id, started_at, now(), 'failed', error
  FROM done
)
SELECT id, in_run FROM done
