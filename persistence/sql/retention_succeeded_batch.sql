-- The chains of the next succeeded jobs (not of runs: they go with their
-- run) that ended before $1, after the keyset cursor ($2 finished_at, $3
-- job id), oldest first, at most $4: job_runs_succeeded_finished_idx.
-- Replies with each one's chain and cursor; the pass moves past them whether
-- their chain could go or not.
SELECT leasehold.correlation_of(job_id, correlation_id), finished_at, job_id
FROM leasehold.job_runs
WHERE outcome = 'succeeded' AND run_id IS NULL AND finished_at < $1::timestamptz
  AND (finished_at, job_id) > ($2::timestamptz, $3::bigint)
ORDER BY finished_at, job_id
LIMIT $4::integer
