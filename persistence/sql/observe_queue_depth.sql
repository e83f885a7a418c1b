-- Queued and running jobs per queue, with each queue's pause and
-- concurrency limit (migrations 021, 022), for /metrics.
SELECT coalesce(jsonb_object_agg(coalesce(c.queue, q.name), jsonb_build_object(
  'queued', coalesce(c.queued, 0), 'running', coalesce(c.running, 0),
  'paused', coalesce(q.paused, false), 'concurrency', q.concurrency)), '{}')::text
FROM (SELECT queue, count(*) FILTER (WHERE status = 'queued') AS queued,
             count(*) FILTER (WHERE status = 'running') AS running
      FROM leasehold.jobs WHERE status IN ('queued', 'running')
      GROUP BY queue) AS c
FULL JOIN leasehold.queues AS q ON q.name = c.queue
