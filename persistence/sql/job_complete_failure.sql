-- Records a batch of failed or snoozed attempts for worker $1. $2 is a JSON
-- array of {id, attempt, error, code, final, delay_ms, buffered_ms, snooze,
-- output, progress}
-- (buffered_ms: see job_complete_success.sql). Same ownership guard as
-- success. A failure goes back to 'queued' after delay_ms while attempts
-- remain; when attempts are exhausted (or final is set, e.g. a precondition
-- failure) it ends 'failed' and the job is dead. A snooze (migration 019)
-- goes back to 'queued' after delay_ms without using up an attempt
-- (max_attempts grows with it), until the job has snoozed $3 times: then it
-- is dead with code snooze_limit. Each attempt that ends here gets its one
-- job_runs row.
WITH input AS (
  SELECT t.*, coalesce(t.snooze, false) AS snoozed
  FROM jsonb_to_recordset($2::jsonb)
    AS t (id bigint, attempt integer, error text, code text, final boolean,
          delay_ms bigint, buffered_ms bigint, snooze boolean, output jsonb,
          progress jsonb)
), decided AS (
  SELECT i.*, j.id AS job_id,
         CASE WHEN i.snoozed THEN j.snoozes >= $3
              ELSE i.final OR j.attempts >= j.max_attempts END AS dead,
         CASE WHEN i.snoozed AND j.snoozes >= $3 THEN 'snooze_limit'
              WHEN NOT i.snoozed AND NOT i.final AND j.attempts >= j.max_attempts
              THEN 'max_attempts_exceeded' ELSE i.code END AS dead_code
  FROM input AS i JOIN leasehold.jobs AS j ON j.id = i.id
), done AS (
  UPDATE leasehold.jobs AS j
  SET status = CASE WHEN d.dead THEN 'failed' ELSE 'queued' END,
      last_error = CASE WHEN d.snoozed AND NOT d.dead THEN j.last_error
                        WHEN d.snoozed THEN 'snoozed ' || $3 || ' times (the limit)'
                        ELSE d.error END,
      last_error_code = CASE WHEN d.snoozed AND NOT d.dead THEN j.last_error_code
                             ELSE d.dead_code END,
      run_at = CASE WHEN d.dead THEN j.run_at
               ELSE now() + d.delay_ms * interval '1 millisecond' END,
      max_attempts = j.max_attempts + CASE WHEN d.snoozed AND NOT d.dead THEN 1 ELSE 0 END,
      snoozes = j.snoozes + CASE WHEN d.snoozed AND NOT d.dead THEN 1 ELSE 0 END,
      finished_at = CASE WHEN d.dead THEN now() END,
      locked_by = CASE WHEN d.dead THEN j.locked_by END,
      heartbeat_at = NULL,
      updated_at = now()
  FROM decided AS d
  WHERE j.id = d.id AND j.locked_by = $1 AND j.attempts = d.attempt
    AND j.status = 'running'
    AND leasehold.instance_active($1) -- a revoked worker writes nothing
  RETURNING j.id, j.attempts, j.trace_id,
            j.locked_at + coalesce(d.buffered_ms, 0) * interval '1 millisecond' AS started_at,
            CASE WHEN d.snoozed AND NOT d.dead THEN 'snoozed' ELSE 'failed' END AS outcome,
            CASE WHEN d.snoozed AND NOT d.dead
                 THEN 'snoozed for ' || d.delay_ms || 'ms'
                 WHEN d.snoozed THEN 'snoozed ' || $3 || ' times (the limit)'
                 ELSE d.error END AS error,
            j.run_id IS NOT NULL AS in_run, d.output,
            leasehold.attempt_progress(j.progress, j.attempts, d.progress) AS progress
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error,
                                  output, progress)
  SELECT id, attempts, $1, trace_id, started_at, now(), outcome, error, output,
         progress
  FROM done
)
SELECT id, in_run FROM done
