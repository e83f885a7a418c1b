-- The chains of the next dead (failed or cancelled) jobs, not of runs, that
-- ended before $1, after the keyset cursor ($2 finished_at, $3 id), oldest
-- first, at most $4: jobs_dead_finished_idx.
SELECT leasehold.correlation_of(id, correlation_id), finished_at, id, false
FROM leasehold.jobs
WHERE status IN ('failed', 'cancelled') AND run_id IS NULL
  AND finished_at < $1::timestamptz
  AND (finished_at, id) > ($2::timestamptz, $3::bigint)
ORDER BY finished_at, id
LIMIT $4::integer
