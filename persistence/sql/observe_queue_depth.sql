-- Queued and running jobs per queue, for /metrics.
SELECT coalesce(jsonb_object_agg(queue, jsonb_build_object(
  'queued', queued, 'running', running)), '{}')::text
FROM (SELECT queue, count(*) FILTER (WHERE status = 'queued') AS queued,
             count(*) FILTER (WHERE status = 'running') AS running
      FROM leasehold.jobs WHERE status IN ('queued', 'running')
      GROUP BY queue) AS q
