-- 020: job output and progress. A handler may return an output (JSON,
-- bounded by the node before it is sent here) that is kept with its
-- attempt's job_runs row. While it runs it may report progress: the node
-- writes the latest report at most once per heartbeat, fenced like a
-- completion, into jobs.progress as {"attempt", "value", "message", "at"}.
-- The attempt number says whose progress it is: a retried job keeps the
-- last attempt's figure until its new attempt reports, and readers show it
-- only for the attempt it belongs to. When the attempt ends, its progress
-- is copied into its job_runs row with the output.
ALTER TABLE leasehold.jobs ADD COLUMN progress jsonb;
ALTER TABLE leasehold.job_runs ADD COLUMN output jsonb, ADD COLUMN progress jsonb;

CREATE OR REPLACE VIEW leasehold.all_jobs AS
SELECT id, type, queue, priority, payload, status, attempts, max_attempts,
       run_at, locked_by, locked_at, heartbeat_at, correlation_id, trace_id,
       parent_id, last_error, last_error_code, created_at, updated_at,
       finished_at, run_id, partition_key, unique_key, unique_while, progress
FROM leasehold.jobs
UNION ALL
SELECT job_id, type, queue, priority, payload, 'succeeded', attempt,
       max_attempts, run_at, worker_id, started_at, NULL, correlation_id,
       trace_id, parent_id, NULL, NULL, created_at, finished_at, finished_at,
       run_id, partition_key, NULL, NULL, progress
FROM leasehold.job_runs
WHERE outcome = 'succeeded';

-- The progress an ending attempt keeps in its job_runs row: its report not
-- written yet (`last`, {"value", "message"}), else the one in the job row
-- if that one is this attempt's.
CREATE FUNCTION leasehold.attempt_progress(stored jsonb, attempt integer,
                                           last jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN last IS NOT NULL
      THEN jsonb_build_object('attempt', attempt) || last
    WHEN (stored ->> 'attempt')::integer = attempt THEN stored
  END
$$;
