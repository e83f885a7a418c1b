-- 019: snooze. A handler may answer "not now, try again after D": the job
-- goes back to queued with run_at = now() + D and the attempt is recorded
-- with outcome 'snoozed'. A snooze does not count toward max_attempts (the
-- attempt number still moves on, so max_attempts grows by one with it); it
-- counts in snoozes, bounded on its own so that a job cannot snooze forever.
ALTER TABLE leasehold.jobs
  ADD COLUMN snoozes integer NOT NULL DEFAULT 0 CHECK (snoozes >= 0);

ALTER TABLE leasehold.job_runs DROP CONSTRAINT job_runs_outcome_check;
ALTER TABLE leasehold.job_runs ADD CONSTRAINT job_runs_outcome_check
  CHECK (outcome IN ('succeeded', 'failed', 'ownership_lost',
                     'stopping_timeout', 'expired', 'cancelled', 'snoozed'));
