-- leasehold verify, who wrote each success (see persistence/verify.hpp):
-- the attempt's own owner, under a well-formed worker id and trace id,
-- registered and not revoked when it wrote. $1: successes finished at or
-- after that time; $3: the trace-id cutoff.
-- One scan of the successes (parallel, no per-row regex: worker ids are
-- checked once per registered worker) keeps the few suspects; they are
-- sorted into checks afterwards.
WITH p AS (
  SELECT $1::timestamptz AS since, $2::bigint AS grace_ms,
         $3::timestamptz AS trace_cutoff, $4::bigint AS default_ttl_ms
), worker AS MATERIALIZED (
  SELECT worker_id, status, stopped_at,
         worker_id ~ '^.+-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
           AS well_formed
  FROM leasehold.worker_instances
), suspect AS MATERIALIZED (
  SELECT r.job_id, r.attempt, r.worker_id, r.trace_id, r.finished_at, r.created_at,
         w.worker_id IS NOT NULL AS registered, w.well_formed, w.status AS owner_status,
         w.stopped_at
  FROM leasehold.job_runs AS r
  LEFT JOIN worker AS w ON w.worker_id = r.worker_id
  WHERE r.outcome = 'succeeded'
    AND ($1::timestamptz = '-infinity' OR r.finished_at >= $1)
    AND (r.trace_id <> r.worker_id || '-' || r.job_id || '-' || r.attempt
         OR (r.trace_id IS NULL AND r.created_at >= $3::timestamptz)
         OR w.worker_id IS NULL OR NOT w.well_formed
         OR (w.status = 'STOPPED' AND r.finished_at > w.stopped_at))
)
SELECT 'trace_id_format', jsonb_build_object(
         'job_id', job_id, 'attempt', attempt, 'worker_id', worker_id,
         'trace_id', trace_id,
         'expected', worker_id || '-' || job_id || '-' || attempt)
FROM suspect
WHERE trace_id <> worker_id || '-' || job_id || '-' || attempt
UNION ALL
SELECT 'worker_id_format', jsonb_build_object(
         'job_id', job_id, 'attempt', attempt, 'worker_id', worker_id)
FROM suspect
WHERE NOT coalesce(well_formed, worker_id
  ~ '^.+-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
UNION ALL
SELECT 'traced_successes', jsonb_build_object(
         'job_id', job_id, 'attempt', attempt, 'worker_id', worker_id,
         'created_at', created_at)
FROM suspect
WHERE trace_id IS NULL AND created_at >= $3::timestamptz
UNION ALL
SELECT 'success_by_registered_worker', jsonb_build_object(
         'job_id', job_id, 'attempt', attempt, 'worker_id', worker_id)
FROM suspect
WHERE NOT registered
UNION ALL
-- A completion races a revocation only while both transactions are open:
-- finished_at is the completion's start, stopped_at the revocation's.
SELECT 'no_success_after_revocation', jsonb_build_object(
         'job_id', job_id, 'attempt', attempt, 'worker_id', worker_id,
         'finished_at', finished_at, 'revoked_at', stopped_at)
FROM suspect
WHERE owner_status = 'STOPPED' AND finished_at > stopped_at
