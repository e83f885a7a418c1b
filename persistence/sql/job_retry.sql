-- Puts a dead job back in the queue, once: only a job that is 'failed' at
-- this moment changes (the row lock makes two concurrent retries queue it
-- once). It gets one more attempt than it has used. Replies with the
-- status before, or nothing if there is no such job.
WITH target AS (
  SELECT id, status FROM leasehold.jobs WHERE id = $1 FOR UPDATE
), retried AS (
  UPDATE leasehold.jobs AS j
  SET status = 'queued', run_at = now(), finished_at = NULL,
      locked_by = NULL, heartbeat_at = NULL,
      max_attempts = greatest(j.max_attempts, j.attempts + 1),
      updated_at = now()
  FROM target
  WHERE j.id = target.id AND target.status = 'failed'
  RETURNING j.id, j.run_id
), reopened AS (
  -- A retried partition makes its run running again.
  UPDATE leasehold.runs SET completed_at = NULL
  WHERE id = (SELECT run_id FROM retried)
)
SELECT target.status, EXISTS (SELECT 1 FROM retried) AS changed FROM target
UNION ALL
-- A succeeded job has left jobs for job_runs (migration 011).
SELECT 'succeeded', false FROM leasehold.job_runs
WHERE job_id = $1 AND outcome = 'succeeded'
