-- Cancels a queued or running job. A running attempt then loses its lease:
-- its next heartbeat or guarded write finds the job no longer 'running' and
-- its executor ends with ownership_lost, and the attempt's run row is
-- written here with outcome 'cancelled'. Finished jobs do not change.
-- Replies with the status before, or nothing if there is no such job, and
-- the worker whose attempt was ended (told over a cluster link at once).
WITH target AS (
  SELECT id, status, attempts, locked_by, locked_at, trace_id, progress
  FROM leasehold.jobs WHERE id = $1 FOR UPDATE
), cancelled AS (
  UPDATE leasehold.jobs AS j
  SET status = 'cancelled', finished_at = now(), updated_at = now(),
      last_error = 'cancelled by request', last_error_code = 'cancelled'
  FROM target
  WHERE j.id = target.id AND target.status IN ('queued', 'running')
  RETURNING j.id
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error,
                                  progress)
  SELECT id, attempts, coalesce(locked_by, 'unknown'), trace_id,
         coalesce(locked_at, now()), now(), 'cancelled',
         'cancelled by request',
         leasehold.attempt_progress(progress, attempts, NULL) -- how far it got
  FROM target WHERE status = 'running' AND EXISTS (SELECT 1 FROM cancelled)
)
SELECT target.status, EXISTS (SELECT 1 FROM cancelled) AS changed,
       CASE WHEN target.status = 'running' THEN target.locked_by END AS owner
FROM target
UNION ALL
-- A succeeded job has left jobs for job_runs (migration 011).
SELECT 'succeeded', false, NULL FROM leasehold.job_runs
WHERE job_id = $1 AND outcome = 'succeeded'
