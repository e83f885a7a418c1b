-- The next $4 job_runs rows in primary-key order after ($2 job id, $3
-- attempt), for the chains of succeeded jobs (not of runs: they go with
-- their run). Each row: its chain when it is a success that ended before
-- $1, else NULL; its key; and whether it is a success created at or after
-- $1, where the walk stops (job ids follow creation, and a job created
-- after the cutoff cannot have ended before it). No index by finish time:
-- one would cost every completion an entry (a drain of no-op jobs ran at
-- 0.74x with one, benchmarks/RESULTS.md section R). prune_chains checks
-- each chain's expiry itself, so a row walked past early costs nothing.
SELECT CASE WHEN outcome = 'succeeded' AND run_id IS NULL
                 AND finished_at < $1::timestamptz
            THEN leasehold.correlation_of(job_id, correlation_id) END,
       job_id::text AS walked_job, attempt::text AS walked_attempt,
       coalesce(outcome = 'succeeded' AND created_at >= $1::timestamptz, false)
FROM leasehold.job_runs
WHERE (job_id, attempt) > ($2::bigint, $3::integer)
ORDER BY job_runs.job_id, job_runs.attempt -- the columns, not their text
LIMIT $4::integer
