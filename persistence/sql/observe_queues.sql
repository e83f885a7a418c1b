-- Every queue that has jobs waiting or held, or a state of its own: paused
-- or not (since when), its limits (null: none): concurrency, per key, rate
-- (jobs per rate_period_seconds, burst, and the whole tokens its bucket has
-- now), jobs due, scheduled for later, held by nodes, and the lag (seconds
-- the oldest due job has waited). Read from the hot jobs table only:
-- succeeded jobs have left it (migration 011).
WITH counts AS (
  SELECT queue,
         count(*) FILTER (WHERE status = 'queued' AND run_at <= now()) AS due,
         count(*) FILTER (WHERE status = 'queued' AND run_at > now()) AS scheduled,
         count(*) FILTER (WHERE status = 'running') AS running,
         min(run_at) FILTER (WHERE status = 'queued' AND run_at <= now()) AS oldest_due
  FROM leasehold.jobs WHERE status IN ('queued', 'running')
  GROUP BY queue
)
SELECT coalesce(jsonb_agg(jsonb_build_object(
    'queue', coalesce(c.queue, q.name),
    'paused', coalesce(q.paused, false), 'paused_at', q.paused_at,
    'concurrency', q.concurrency, 'per_key', q.per_key,
    'rate', q.rate, 'rate_period_seconds', extract(epoch FROM q.rate_period),
    'burst', q.burst,
    'tokens', CASE WHEN q.rate IS NOT NULL
                   THEN floor(leasehold.rate_tokens(q, clock_timestamp())) END,
    'due', coalesce(c.due, 0), 'scheduled', coalesce(c.scheduled, 0),
    'running', coalesce(c.running, 0),
    'lag_seconds', coalesce(round(extract(epoch FROM now() - c.oldest_due)::numeric, 3), 0))
    ORDER BY coalesce(c.queue, q.name)), '[]')::text
FROM counts AS c FULL JOIN leasehold.queues AS q ON q.name = c.queue
