-- A run with its progress (counts derived from its partitions, see the
-- run_progress view) and, when $2, a row per partition. NULL if no run $1.
SELECT jsonb_build_object(
  'id', r.id, 'type', r.type, 'label', r.label,
  'correlation_id', r.correlation_id, 'created_at', r.created_at,
  'completed_at', r.completed_at, 'on_complete_type', r.on_complete_type,
  'on_complete_job_id', r.on_complete_job_id,
  'counts', jsonb_build_object('expected', r.expected, 'queued', p.queued,
    'running', p.running, 'succeeded', p.succeeded, 'failed', p.failed,
    'cancelled', p.cancelled),
  'status', p.status,
  'partitions', CASE WHEN $2::boolean THEN coalesce((
    SELECT jsonb_agg(jsonb_build_object('key', j.partition_key, 'job_id', j.id,
      'status', j.status, 'attempts', j.attempts, 'worker', j.locked_by,
      'last_error', j.last_error, 'last_error_code', j.last_error_code)
      ORDER BY j.partition_key)
    FROM leasehold.all_jobs AS j WHERE j.run_id = r.id), '[]') END
)::text
FROM leasehold.runs AS r
JOIN leasehold.run_progress AS p ON p.id = r.id
WHERE r.id = $1
