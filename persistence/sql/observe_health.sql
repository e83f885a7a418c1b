-- Everything /health says about the database, as one JSON document. Each
-- figure reads a partial index ($1 lease TTL ms, $2 stale-after ms, $3 stop
-- timeout ms), so the cost follows what is queued, running or dead, not the
-- size of the table.
-- Dead jobs of the last 24 hours are read once, counted by type and
-- reason; the total and the top three both come from those counts.
-- Queued jobs are read once too, from the claim index, which carries their
-- type (migration 012): the counts per type and the oldest due job come from
-- the same pass.
-- A type with due jobs that no live instance lists in metadata.job_types
-- (what it has handlers for, recorded at registration) is unserved: its jobs
-- wait until a node that knows it starts (a rolling deploy).
-- Running jobs are judged as `leasehold verify` judges them (its stuck_jobs
-- and running_owner_not_active): stuck past their owner's own lease TTL
-- ($1 for owners that recorded none), or held by an owner that is not
-- registered or was revoked longer than the stale threshold ago (reapers
-- should have moved them by then).
WITH running AS MATERIALIZED (
  SELECT j.id, j.type, j.locked_by, j.heartbeat_at,
         coalesce(w.status, 'not registered') AS owner_status,
         coalesce(j.heartbeat_at, '-infinity')
           < now() - coalesce(w.lease_ttl_ms, $1::bigint) * interval '1 millisecond'
           AS stuck,
         w.worker_id IS NULL
           OR (w.status = 'STOPPED'
               AND w.stopped_at < now() - $2::bigint * interval '1 millisecond')
           AS unowned
  FROM leasehold.jobs AS j
  LEFT JOIN leasehold.worker_instances AS w ON w.worker_id = j.locked_by
  WHERE j.status = 'running'
), queued AS MATERIALIZED (
  SELECT type, count(*) AS n, min(run_at) FILTER (WHERE run_at <= now()) AS oldest_due
  FROM leasehold.jobs
  WHERE status = 'queued'
  GROUP BY type
), dead AS MATERIALIZED (
  SELECT type, coalesce(last_error_code, 'handler_error') AS reason,
         count(*) AS n
  FROM leasehold.jobs
  WHERE status = 'failed' AND finished_at > now() - interval '24 hours'
  GROUP BY 1, 2
)
SELECT jsonb_build_object(
  'jobs_queued', (
    SELECT jsonb_build_object(
      'by_type', coalesce(jsonb_object_agg(type, n), '{}'),
      'total', coalesce(sum(n), 0))
    FROM queued),
  'jobs_processing', (
    SELECT jsonb_build_object(
      'count', count(*),
      'avg_age_seconds',
        round(coalesce(extract(epoch FROM avg(now() - locked_at)), 0)::numeric, 3))
    FROM leasehold.jobs WHERE status = 'running'),
  'stuck_count', (SELECT count(*) FROM running WHERE stuck),
  'stuck_jobs', coalesce((
    SELECT jsonb_agg(jsonb_build_object('id', id, 'type', type,
      'worker', locked_by, 'heartbeat_age_seconds',
      round(extract(epoch FROM now() - heartbeat_at)::numeric, 1)))
    FROM (SELECT * FROM running WHERE stuck ORDER BY heartbeat_at LIMIT 5) AS s), '[]'),
  'unowned_count', (SELECT count(*) FROM running WHERE unowned),
  'unowned_jobs', coalesce((
    SELECT jsonb_agg(jsonb_build_object('id', id, 'type', type,
      'worker', locked_by, 'owner_status', owner_status))
    FROM (SELECT * FROM running WHERE unowned ORDER BY id LIMIT 5) AS u), '[]'),
  'dead_top', coalesce((
    SELECT jsonb_agg(jsonb_build_object('type', type, 'reason', reason, 'count', n))
    FROM (SELECT * FROM dead ORDER BY n DESC LIMIT 3) AS d), '[]'),
  'dead_last_24h', (SELECT coalesce(sum(n), 0)::bigint FROM dead),
  -- Paused queues (migration 021), with the due jobs they hold back
  -- (counted up to 100,000: enough to say how much).
  'paused_queues', coalesce((
    SELECT jsonb_agg(jsonb_build_object('queue', q.name, 'paused_at', q.paused_at,
      'paused_seconds', round(extract(epoch FROM now() - q.paused_at)::numeric, 1),
      'due', (SELECT count(*) FROM (SELECT 1 FROM leasehold.jobs AS j
                                    WHERE j.queue = q.name AND j.status = 'queued'
                                      AND j.run_at <= now() LIMIT 100000) AS d))
      ORDER BY q.name)
    FROM leasehold.queues AS q WHERE q.paused), '[]'),
  -- Queues held back by a limit (migrations 022-024): at their concurrency
  -- limit (for how long), or rate-limited (how fast they start now).
  'limited_queues', coalesce((
    SELECT jsonb_agg(jsonb_build_object('queue', q.name, 'concurrency', q.concurrency,
      'running', h.running,
      'at_limit_seconds', CASE WHEN h.running >= q.concurrency
        THEN round(extract(epoch FROM now() - coalesce(q.at_limit_since, now()))::numeric, 1) END,
      'rate', q.rate, 'rate_period_seconds', extract(epoch FROM q.rate_period),
      'burst', q.burst,
      'started_per_second', round(leasehold.rate_now(q, clock_timestamp())::numeric, 2),
      'due', (SELECT count(*) FROM (SELECT 1 FROM leasehold.jobs AS j
                                    WHERE j.queue = q.name AND j.status = 'queued'
                                      AND j.run_at <= now() LIMIT 100000) AS d))
      ORDER BY q.name)
    FROM leasehold.queues AS q
    CROSS JOIN LATERAL (SELECT count(*) AS running FROM leasehold.jobs AS j
                        WHERE j.status = 'running' AND j.queue = q.name) AS h
    WHERE q.concurrency IS NOT NULL OR q.rate IS NOT NULL), '[]'),
  -- Schedules whose due tick no node enqueued within 30s (migration 018).
  'late_schedules', coalesce((
    SELECT jsonb_agg(jsonb_build_object('name', name, 'type', type,
      'due_at', next_tick_at,
      'late_seconds', round(extract(epoch FROM now() - next_tick_at)::numeric, 1))
      ORDER BY next_tick_at)
    FROM leasehold.schedules
    WHERE NOT paused AND next_tick_at < now() - interval '30 seconds'), '[]'),
  'unserved_types', coalesce((
    SELECT jsonb_agg(jsonb_build_object('type', q.type, 'queued', q.n,
      'oldest_wait_seconds',
        round(extract(epoch FROM now() - q.oldest_due)::numeric, 1))
      ORDER BY q.oldest_due)
    FROM queued AS q
    WHERE q.oldest_due IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM leasehold.worker_instances AS w
        WHERE w.status IN ('STARTING', 'RUNNING')
          AND w.last_heartbeat_at >= now() - $2::bigint * interval '1 millisecond'
          AND w.metadata->'job_types' ? q.type)), '[]'),
  'estimated_lag_seconds', (
    SELECT round(coalesce(extract(epoch FROM now() - min(oldest_due)), 0)::numeric, 3)
    FROM queued),
  'policy_violations_last_24h', (
    SELECT count(*) FROM leasehold.policy_violations
    WHERE created_at > now() - interval '24 hours'),
  'workers', (
    SELECT jsonb_build_object(
      'active', count(*) FILTER (WHERE status IN ('STARTING', 'RUNNING')
        AND last_heartbeat_at >= now() - $2::bigint * interval '1 millisecond'),
      'stale', count(*) FILTER (WHERE status IN ('STARTING', 'RUNNING')
        AND last_heartbeat_at < now() - $2::bigint * interval '1 millisecond'),
      'hung_stopping', count(*) FILTER (WHERE status = 'STOPPING'
        AND stopping_at < now() - $3::bigint * interval '1 millisecond'),
      'versions', coalesce((
        SELECT jsonb_object_agg(version, n) FROM (
          SELECT version, count(*) AS n FROM leasehold.worker_instances
          WHERE status = 'RUNNING' GROUP BY version) AS v), '{}'),
      'version_drift', coalesce((
        SELECT jsonb_agg(jsonb_build_object('worker_type', worker_type,
                                            'versions', versions))
        FROM (SELECT worker_type, jsonb_agg(DISTINCT version) AS versions
              FROM leasehold.worker_instances WHERE status = 'RUNNING'
              GROUP BY worker_type HAVING count(DISTINCT version) > 1) AS d), '[]'),
      'singleton_conflicts', coalesce((
        SELECT jsonb_agg(jsonb_build_object('worker_type', worker_type,
                                            'active', n))
        FROM (SELECT worker_type, count(*) AS n
              FROM leasehold.worker_instances
              WHERE singleton AND status IN ('STARTING', 'RUNNING')
              GROUP BY worker_type HAVING count(*) > 1) AS s), '[]'),
      'hung_stopping_ids', coalesce((
        SELECT jsonb_agg(worker_id) FROM leasehold.worker_instances
        WHERE status = 'STOPPING'
          AND stopping_at < now() - $3::bigint * interval '1 millisecond'), '[]'))
    FROM leasehold.worker_instances WHERE status <> 'STOPPED')
)::text
