-- Locks, in id order, the runs that jobs $1 (bigint[]) belong to (all_jobs:
-- partitions that just succeeded have left jobs for job_runs). Taken as
-- its own statement before a transaction changes partitions, so that two
-- nodes finishing a run's last two partitions at the same moment are
-- serialised: the second sees the first's commit in its next statement and
-- the run completes exactly once.
SELECT r.id FROM leasehold.runs AS r
WHERE r.id IN (SELECT run_id FROM leasehold.all_jobs
               WHERE id = ANY ($1::bigint[]) AND run_id IS NOT NULL)
ORDER BY r.id
FOR UPDATE OF r
