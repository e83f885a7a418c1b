-- The $1 most recent runs with derived counts and status (no partitions).
SELECT coalesce(jsonb_agg(x.doc ORDER BY x.id DESC), '[]')::text
FROM (
  SELECT r.id, jsonb_build_object(
    'id', r.id, 'type', r.type, 'label', r.label, 'created_at', r.created_at,
    'completed_at', r.completed_at,
    'counts', jsonb_build_object('expected', r.expected, 'queued', c.queued,
      'running', c.running, 'succeeded', c.succeeded, 'failed', c.failed,
      'cancelled', c.cancelled),
    'status', CASE WHEN c.queued + c.running > 0 THEN 'running'
                   WHEN c.succeeded = r.expected THEN 'completed'
                   WHEN c.succeeded = 0 THEN 'failed'
                   ELSE 'partial' END) AS doc
  FROM (SELECT * FROM leasehold.runs ORDER BY id DESC LIMIT $1::integer) AS r
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
           count(*) FILTER (WHERE status = 'running') AS running,
           count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled
    FROM leasehold.jobs WHERE run_id = r.id) AS c
) AS x
