-- The $1 most recent runs with their progress (no partitions).
SELECT coalesce(jsonb_agg(jsonb_build_object(
  'id', r.id, 'type', r.type, 'label', r.label, 'created_at', r.created_at,
  'completed_at', r.completed_at,
  'counts', jsonb_build_object('expected', r.expected, 'queued', p.queued,
    'running', p.running, 'succeeded', p.succeeded, 'failed', p.failed,
    'cancelled', p.cancelled),
  'status', p.status) ORDER BY r.id DESC), '[]')::text
FROM (SELECT * FROM leasehold.runs ORDER BY id DESC LIMIT $1::integer) AS r
JOIN leasehold.run_progress AS p ON p.id = r.id
