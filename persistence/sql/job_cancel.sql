-- Cancels a queued or running job. A running attempt then loses its lease:
-- its next heartbeat or guarded write finds the job no longer 'running' and
-- its executor ends with ownership_lost. Finished jobs do not change.
-- Replies with the status before, or nothing if there is no such job.
WITH target AS (
  SELECT id, status FROM leasehold.jobs WHERE id = $1 FOR UPDATE
), cancelled AS (
  UPDATE leasehold.jobs AS j
  SET status = 'cancelled', finished_at = now(), updated_at = now(),
      last_error = 'cancelled by request', last_error_code = 'cancelled'
  FROM target
  WHERE j.id = target.id AND target.status IN ('queued', 'running')
  RETURNING j.id
)
SELECT target.status, EXISTS (SELECT 1 FROM cancelled) AS changed FROM target
