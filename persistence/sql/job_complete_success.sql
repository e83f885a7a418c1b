-- Ends a batch of attempts successfully for worker $1: $2 is a JSON array of
-- [id, attempt, buffered_ms] triples (buffered_ms: how long the job waited
-- in the node's prefetch buffer, so the run row starts when its handler
-- did, not at the claim), optionally followed by the attempt's output and
-- last progress report (migration 020), kept in its job_runs row. (JSON, not two arrays for unnest: the planner
-- estimates unnest of a parameter at 10 rows and, with a generic plan,
-- rescans it once per running job: 170 ms for a batch of 1,000.) The guard
-- (locked_by, attempts, running) stops a stale owner: a lease taken away
-- matches zero rows and nothing is written; a revoked worker id (STOPPED)
-- writes nothing at all.
-- A succeeded job leaves the jobs table (migration 011): its row is deleted
-- and the attempt's job_runs row, written here, carries the job. in_run says
-- which jobs are run partitions (only those need the run completion check).
-- Trace policy: a job created at or after cutoff $3 must have a trace_id
-- when it succeeds. Violations are recorded; with $4 (strict) the attempt
-- fails instead, and the job stays in jobs, dead.
WITH strict_failed AS (
  UPDATE leasehold.jobs AS j
  SET status = 'failed',
      last_error = 'succeeded without a trace_id (strict trace policy)',
      last_error_code = 'trace_policy', finished_at = now(), updated_at = now()
  FROM (SELECT (p ->> 0)::bigint AS id, (p ->> 1)::integer AS attempt,
               coalesce((p ->> 2)::bigint, 0) AS buffered_ms,
               nullif(p -> 3, 'null') AS output, nullif(p -> 4, 'null') AS progress
        FROM jsonb_array_elements($2::jsonb) AS p) AS i
  -- $4 alone is a one-time filter: without strict, no row is visited.
  -- COLLATE "C": see the succeeded branch below.
  WHERE $4::boolean
    AND j.id = i.id AND j.locked_by = $1 COLLATE "C" AND j.attempts = i.attempt
    AND j.status = 'running' COLLATE "C"
    AND leasehold.instance_active($1)
    AND j.trace_id IS NULL AND j.created_at >= $3::timestamptz
  RETURNING j.id, j.attempts, j.trace_id,
            j.locked_at + i.buffered_ms * interval '1 millisecond' AS started_at,
            j.run_id, i.output,
            leasehold.attempt_progress(j.progress, j.attempts, i.progress) AS progress_kept
), succeeded AS (
  DELETE FROM leasehold.jobs AS j
  USING (SELECT (p ->> 0)::bigint AS id, (p ->> 1)::integer AS attempt,
                coalesce((p ->> 2)::bigint, 0) AS buffered_ms,
                nullif(p -> 3, 'null') AS output, nullif(p -> 4, 'null') AS progress
         FROM jsonb_array_elements($2::jsonb) AS p) AS i
  -- locked_by and status compared under COLLATE "C" (the same equality,
  -- byte for byte) so that the generic plan cannot use jobs_running_idx:
  -- with it, every batch hash-joined ALL of this worker's running jobs (its
  -- concurrency), not just the batch; without it, each job of the batch is
  -- one primary-key lookup. pg.hot_path checks the rows read.
  WHERE j.id = i.id AND j.locked_by = $1 COLLATE "C" AND j.attempts = i.attempt
    AND j.status = 'running' COLLATE "C"
    AND leasehold.instance_active($1)
    AND NOT ($4::boolean AND j.trace_id IS NULL
             AND j.created_at >= $3::timestamptz)
  RETURNING j.*, j.trace_id IS NULL AND j.created_at >= $3::timestamptz
                 AS violates,
            j.locked_at + i.buffered_ms * interval '1 millisecond' AS started_at,
            i.output,
            leasehold.attempt_progress(j.progress, j.attempts, i.progress) AS progress_kept
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error,
                                  type, queue, priority, payload,
                                  max_attempts, run_at, correlation_id,
                                  parent_id, run_id, partition_key,
                                  created_at, output, progress, concurrency_key)
  SELECT id, attempts, $1, trace_id, started_at, now(), 'succeeded', NULL,
         type, queue, priority, payload, max_attempts, run_at, correlation_id,
         parent_id, run_id, partition_key, created_at, output, progress_kept,
         concurrency_key
  FROM succeeded
  UNION ALL
  SELECT id, attempts, $1, trace_id, started_at, now(), 'failed',
         'succeeded without a trace_id (strict trace policy)',
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         output, progress_kept, NULL
  FROM strict_failed
), violations AS (
  INSERT INTO leasehold.policy_violations (job_id, attempt, worker_id, policy,
                                           detail)
  SELECT id, attempts, $1, 'trace_id_required',
         'job created at or after the trace-id cutoff succeeded without one'
  FROM (SELECT id, attempts FROM succeeded WHERE violates
        UNION ALL
        SELECT id, attempts FROM strict_failed) AS v
)
SELECT id, violates, run_id IS NOT NULL AS in_run FROM succeeded
UNION ALL
SELECT id, true, run_id IS NOT NULL FROM strict_failed
