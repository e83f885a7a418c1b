-- A run with counts derived from its partitions in this same query, its
-- status, and (when $2) a row per partition. NULL if there is no run $1.
SELECT jsonb_build_object(
  'id', r.id, 'type', r.type, 'label', r.label,
  'correlation_id', r.correlation_id, 'created_at', r.created_at,
  'completed_at', r.completed_at, 'on_complete_type', r.on_complete_type,
  'on_complete_job_id', r.on_complete_job_id,
  'counts', jsonb_build_object('expected', r.expected, 'queued', c.queued,
    'running', c.running, 'succeeded', c.succeeded, 'failed', c.failed,
    'cancelled', c.cancelled),
  'status', CASE WHEN c.queued + c.running > 0 THEN 'running'
                 WHEN c.succeeded = r.expected THEN 'completed'
                 WHEN c.succeeded = 0 THEN 'failed'
                 ELSE 'partial' END,
  'partitions', CASE WHEN $2::boolean THEN coalesce((
    SELECT jsonb_agg(jsonb_build_object('key', j.partition_key, 'job_id', j.id,
      'status', j.status, 'attempts', j.attempts, 'worker', j.locked_by,
      'last_error', j.last_error, 'last_error_code', j.last_error_code)
      ORDER BY j.partition_key)
    FROM leasehold.jobs AS j WHERE j.run_id = r.id), '[]') END
)::text
FROM leasehold.runs AS r
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
         count(*) FILTER (WHERE status = 'running') AS running,
         count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE status = 'cancelled') AS cancelled
  FROM leasehold.jobs WHERE run_id = r.id) AS c
WHERE r.id = $1
