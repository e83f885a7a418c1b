-- Every job of correlation id $1 in creation order, each with its attempts
-- (ended ones from job_runs, a running one from the job row: migration 009).
SELECT coalesce(jsonb_agg(jsonb_build_object(
  'id', j.id, 'type', j.type, 'queue', j.queue, 'status', j.status,
  'parent_id', j.parent_id, 'attempts', j.attempts,
  'last_error', j.last_error, 'last_error_code', j.last_error_code,
  'trace_id', j.trace_id, 'worker', j.locked_by, 'created_at', j.created_at,
  'finished_at', j.finished_at,
  'runs', coalesce((
    SELECT jsonb_agg(jsonb_build_object(
      'attempt', r.attempt, 'worker_id', r.worker_id, 'outcome', r.outcome,
      'error', r.error, 'started_at', r.started_at,
      'finished_at', r.finished_at) ORDER BY r.attempt)
    FROM (SELECT attempt, worker_id, outcome, error, started_at, finished_at
          FROM leasehold.job_runs WHERE job_id = j.id
          UNION ALL
          SELECT j.attempts, j.locked_by, NULL, NULL, j.locked_at, NULL
          WHERE j.status = 'running') AS r), '[]'))
  ORDER BY j.created_at, j.id), '[]')::text
-- Two branches because the correlation index of jobs leaves out running
-- jobs (migration 008); those few are found through jobs_running_idx.
-- Succeeded jobs come from job_runs through all_jobs (migration 011). The
-- third finds the root of a job-<id> chain, which stores no id (014).
FROM (SELECT * FROM leasehold.all_jobs
      WHERE correlation_id = $1 AND status <> 'running'
      UNION ALL
      -- Read through all_jobs as the others, with the same columns
      -- whatever either gains: jobs has more (snoozes, 019).
      SELECT * FROM leasehold.all_jobs
      WHERE id IN (SELECT id FROM leasehold.jobs
                   WHERE correlation_id = $1 AND status = 'running')
      UNION ALL
      SELECT * FROM leasehold.all_jobs
      WHERE id = leasehold.chain_root($1) AND correlation_id IS NULL) AS j
