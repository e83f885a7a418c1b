-- One job and all of its attempts, as a JSON document (NULL if no such job).
-- all_jobs: a succeeded job is found in job_runs (migration 011).
-- Ended attempts come from job_runs; a running one from the job row itself
-- (migration 009), with no finished_at or outcome yet.
SELECT jsonb_build_object(
  'id', j.id, 'type', j.type, 'queue', j.queue, 'priority', j.priority,
  'payload', j.payload, 'status', j.status, 'attempts', j.attempts,
  'max_attempts', j.max_attempts, 'run_at', j.run_at,
  'locked_by', j.locked_by, 'locked_at', j.locked_at,
  'heartbeat_at', j.heartbeat_at, 'correlation_id',
  leasehold.correlation_of(j.id, j.correlation_id),
  'trace_id', j.trace_id, 'parent_id', j.parent_id,
  'last_error', j.last_error, 'last_error_code', j.last_error_code,
  'dead', j.status = 'failed',
  'created_at', j.created_at, 'updated_at', j.updated_at,
  'finished_at', j.finished_at,
  'unique_key', j.unique_key, 'unique_while', j.unique_while,
  -- The latest attempt's progress and, once it ended, output (migration 020).
  'progress', leasehold.attempt_progress(j.progress, j.attempts, NULL),
  'output', (SELECT r.output FROM leasehold.job_runs AS r
             WHERE r.job_id = j.id AND r.attempt = j.attempts),
  'runs', coalesce((
    SELECT jsonb_agg(jsonb_build_object(
      'attempt', r.attempt, 'worker_id', r.worker_id, 'trace_id', r.trace_id,
      'started_at', r.started_at, 'finished_at', r.finished_at,
      'outcome', r.outcome, 'error', r.error, 'output', r.output,
      'progress', r.progress) ORDER BY r.attempt)
    FROM (SELECT attempt, worker_id, trace_id, started_at, finished_at,
                 outcome, error, output, progress
          FROM leasehold.job_runs WHERE job_id = j.id
          UNION ALL
          SELECT j.attempts, j.locked_by, j.trace_id, j.locked_at, NULL, NULL,
                 NULL, NULL, leasehold.attempt_progress(j.progress, j.attempts, NULL)
          WHERE j.status = 'running') AS r), '[]'::jsonb)
)::text
FROM leasehold.all_jobs AS j
WHERE j.id = $1
