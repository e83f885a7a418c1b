-- Completes the runs of jobs $1 (bigint[]) whose partitions are all
-- terminal now: sets completed_at and enqueues the on-complete job, once
-- per run ever (on_complete_job_id remembers it), with the run's
-- correlation_id. Runs after run_lock in the same transaction.
WITH finished AS (
  SELECT r.id FROM leasehold.runs AS r
  WHERE r.completed_at IS NULL
    AND r.id IN (SELECT run_id FROM leasehold.all_jobs
                 WHERE id = ANY ($1::bigint[]) AND run_id IS NOT NULL)
    AND NOT EXISTS (SELECT 1 FROM leasehold.jobs AS j
                    WHERE j.run_id = r.id AND j.status IN ('queued', 'running'))
), on_complete AS (
  INSERT INTO leasehold.jobs (type, payload, correlation_id)
  SELECT r.on_complete_type, jsonb_build_object('run_id', r.id), r.correlation_id
  FROM leasehold.runs AS r JOIN finished AS f ON f.id = r.id
  WHERE r.on_complete_type IS NOT NULL AND r.on_complete_job_id IS NULL
  RETURNING id, (payload ->> 'run_id')::bigint AS run_id
)
UPDATE leasehold.runs AS r
SET completed_at = now(),
    on_complete_job_id = coalesce(r.on_complete_job_id, oc.id)
FROM finished AS f LEFT JOIN on_complete AS oc ON oc.run_id = f.id
WHERE r.id = f.id
RETURNING r.id
