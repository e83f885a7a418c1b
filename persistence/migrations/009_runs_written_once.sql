-- 009: an attempt's job_runs row is written once, when the attempt ends
-- (success, failure, release, expiry or cancel), instead of being inserted
-- by the claim and updated at the end. While an attempt runs, the job row
-- itself holds it (locked_by, attempts, locked_at, trace_id), and readers
-- show it from there as the open run. Saves one row version and one index
-- entry per job on the hot path.
--
-- Open rows left by the previous scheme for attempts still running are
-- removed: their end now inserts the row. Stop nodes of older versions
-- before migrating (they would still open rows at claim time).
DELETE FROM leasehold.job_runs AS r
USING leasehold.jobs AS j
WHERE r.job_id = j.id AND r.attempt = j.attempts AND j.status = 'running'
  AND r.outcome IS NULL;

-- A running attempt that is cancelled is now recorded too.
ALTER TABLE leasehold.job_runs DROP CONSTRAINT job_runs_outcome_check;
ALTER TABLE leasehold.job_runs ADD CONSTRAINT job_runs_outcome_check
  CHECK (outcome IN ('succeeded', 'failed', 'ownership_lost',
                     'stopping_timeout', 'expired', 'cancelled'));
