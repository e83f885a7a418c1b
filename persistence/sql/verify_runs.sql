-- leasehold verify, runs and their partitions (see persistence/verify.hpp):
-- the counts a run reports (run_progress) add up to its partitions, it is
-- completed exactly when none is left to run, and a completed run with an
-- on-complete type enqueued that job exactly once. $1: runs created at or
-- after that time.
WITH p AS (
  SELECT $1::timestamptz AS since, $2::bigint AS grace_ms,
         $3::timestamptz AS trace_cutoff, $4::bigint AS default_ttl_ms
), run AS MATERIALIZED (
  SELECT r.id, r.expected, r.completed_at, r.on_complete_type,
         r.on_complete_job_id, r.correlation_id, g.queued, g.running,
         g.succeeded, g.failed, g.cancelled, g.status
  FROM leasehold.runs AS r JOIN leasehold.run_progress AS g ON g.id = r.id
  WHERE r.created_at >= $1::timestamptz
)
SELECT 'run_counts', jsonb_build_object(
         'run_id', id, 'expected', expected, 'queued', queued, 'running', running,
         'succeeded', succeeded, 'failed', failed, 'cancelled', cancelled,
         'completed_at', completed_at)
FROM run
WHERE queued + running + succeeded + failed + cancelled <> expected
   OR (completed_at IS NULL) <> (queued + running > 0)
UNION ALL
SELECT 'on_complete_once', jsonb_build_object(
         'run_id', r.id, 'on_complete_type', r.on_complete_type,
         'on_complete_job_id', r.on_complete_job_id, 'jobs', c.ids)
FROM run AS r
CROSS JOIN LATERAL (
  SELECT count(*) AS n, jsonb_agg(j.id) AS ids FROM leasehold.all_jobs AS j
  WHERE j.correlation_id = r.correlation_id AND j.type = r.on_complete_type
    AND j.run_id IS NULL AND j.payload ->> 'run_id' = r.id::text) AS c
WHERE r.completed_at IS NOT NULL AND r.on_complete_type IS NOT NULL
  AND (r.on_complete_job_id IS NULL OR c.n <> 1
       OR NOT c.ids @> jsonb_build_array(r.on_complete_job_id))
