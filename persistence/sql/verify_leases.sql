-- leasehold verify, the live leases (see persistence/verify.hpp for the
-- parameters and the catalogue of checks). One row per violation:
-- (check, detail as JSON). What is running now is judged with a grace of
-- $2 ms on top of the owner's own terms, so a sweep that is merely due does
-- not count as a violation.
WITH p AS (
  SELECT $1::timestamptz AS since, $2::bigint AS grace_ms,
         $3::timestamptz AS trace_cutoff, $4::bigint AS default_ttl_ms
), running AS MATERIALIZED (
  SELECT j.id, j.type, j.attempts, j.locked_by, j.heartbeat_at,
         w.worker_id AS registered, w.status AS owner_status, w.stopped_at,
         coalesce(w.lease_ttl_ms, p.default_ttl_ms) AS ttl_ms, p.grace_ms
  FROM leasehold.jobs AS j
  LEFT JOIN leasehold.worker_instances AS w ON w.worker_id = j.locked_by
  CROSS JOIN p
  WHERE j.status = 'running'
)
SELECT 'stuck_jobs', jsonb_build_object(
         'job_id', id, 'type', type, 'attempt', attempts, 'worker_id', locked_by,
         'heartbeat_age_ms', (extract(epoch FROM now() - heartbeat_at) * 1000)::bigint,
         'owner_ttl_ms', ttl_ms)
FROM running
WHERE coalesce(heartbeat_at, '-infinity')
      < now() - (ttl_ms + grace_ms) * interval '1 millisecond'
UNION ALL
SELECT 'running_owner_not_active', jsonb_build_object(
         'job_id', id, 'type', type, 'attempt', attempts, 'worker_id', locked_by,
         'owner_status', coalesce(owner_status, 'not registered'),
         'stopped_at', stopped_at)
FROM running
WHERE registered IS NULL
   OR (owner_status = 'STOPPED'
       AND stopped_at < now() - grace_ms * interval '1 millisecond')
UNION ALL
SELECT 'one_active_singleton', jsonb_build_object(
         'worker_type', worker_type, 'active', jsonb_agg(worker_id ORDER BY worker_id))
FROM leasehold.worker_instances
WHERE singleton AND status IN ('STARTING', 'RUNNING')
GROUP BY worker_type
HAVING count(*) > 1
