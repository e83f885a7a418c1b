-- leasehold verify, limits (migrations 022-024; see persistence/verify.hpp):
-- no queue with a concurrency limit, and no concurrency key, ever had more
-- of its attempts running at once than its limit now is; no rate-limited
-- queue started more jobs in any span of its period than its bucket allows.
-- Each attempt spans its run row's started_at (the handler's start) to
-- finished_at (its outcome written); a running attempt spans locked_at to
-- now. Claims count a job as held from its claim to its outcome's write,
-- which covers that span, so the sweeps below can only find overlaps the
-- limits did not prevent. Attempts that finished at or after $1 (and
-- running ones). A limit lowered since judges older attempts by the new
-- figure.
WITH p AS (
  SELECT $1::timestamptz AS since, $2::bigint AS grace_ms,
         $3::timestamptz AS trace_cutoff, $4::bigint AS default_ttl_ms
), limited AS (
  SELECT name, concurrency, coalesce(per_key, 1) AS per_key, rate, rate_period, burst
  FROM leasehold.queues
), keyed AS (
  -- Whether any job had a key: else the key check reads nothing.
  SELECT EXISTS (SELECT 1 FROM leasehold.jobs WHERE concurrency_key IS NOT NULL)
      OR EXISTS (SELECT 1 FROM leasehold.job_runs, p
                 WHERE concurrency_key IS NOT NULL AND finished_at >= p.since) AS found
), attempts AS (
  -- A run row carries its queue and key only for a success (migrations
  -- 011, 023); the others take them from their job, live or succeeded.
  SELECT coalesce(r.queue, j.queue, s.queue) AS queue,
         coalesce(r.concurrency_key, j.concurrency_key, s.concurrency_key) AS key,
         r.job_id, r.attempt, r.started_at, r.finished_at
  FROM leasehold.job_runs AS r
  LEFT JOIN leasehold.jobs AS j ON r.queue IS NULL AND j.id = r.job_id
  LEFT JOIN leasehold.job_runs AS s
    ON r.queue IS NULL AND j.id IS NULL AND s.job_id = r.job_id
   AND s.outcome = 'succeeded'
  CROSS JOIN p
  WHERE r.finished_at >= p.since AND r.outcome <> 'snoozed'
    AND (EXISTS (SELECT 1 FROM limited WHERE concurrency IS NOT NULL OR rate IS NOT NULL)
         OR (SELECT found FROM keyed))
  UNION ALL
  SELECT j.queue, j.concurrency_key, j.id, j.attempts, j.locked_at, now()
  FROM leasehold.jobs AS j
  WHERE j.status = 'running'
), events AS (
  -- Per queue with a limit (key NULL), and per key.
  SELECT a.queue, NULL::text AS key, l.concurrency AS lim, a.started_at AS at, 1 AS delta
  FROM attempts AS a JOIN limited AS l ON l.name = a.queue AND l.concurrency IS NOT NULL
  UNION ALL
  SELECT a.queue, NULL, l.concurrency, a.finished_at, -1
  FROM attempts AS a JOIN limited AS l ON l.name = a.queue AND l.concurrency IS NOT NULL
  UNION ALL
  SELECT a.queue, a.key, coalesce(l.per_key, 1), a.started_at, 1
  FROM attempts AS a LEFT JOIN limited AS l ON l.name = a.queue WHERE a.key IS NOT NULL
  UNION ALL
  SELECT a.queue, a.key, coalesce(l.per_key, 1), a.finished_at, -1
  FROM attempts AS a LEFT JOIN limited AS l ON l.name = a.queue WHERE a.key IS NOT NULL
), sweep AS (
  -- At the same instant an end counts before a start.
  SELECT queue, key, lim, at,
         sum(delta) OVER (PARTITION BY queue, key ORDER BY at, delta
                          ROWS UNBOUNDED PRECEDING) AS running
  FROM events
), worst AS (
  SELECT DISTINCT ON (queue, key) queue, key, at, running, lim
  FROM sweep WHERE running > lim
  ORDER BY queue, key, running DESC, at
), starts AS (
  -- A rate-limited queue's starts, each with the start `allowed` places
  -- later: allowed = burst + rate in one period, plus 1% (at least one) for
  -- the clock a claim reads after its bucket's (job_claim.sql).
  SELECT a.queue, a.started_at AS at, l.rate_period,
         l.burst + l.rate + greatest(1, ceil(l.rate * 0.01))::integer AS allowed,
         lead(a.started_at, l.burst + l.rate + greatest(1, ceil(l.rate * 0.01))::integer)
           OVER (PARTITION BY a.queue ORDER BY a.started_at) AS after_allowed
  FROM attempts AS a JOIN limited AS l ON l.name = a.queue AND l.rate IS NOT NULL
), too_fast AS (
  SELECT DISTINCT ON (queue) queue, at, allowed, rate_period
  FROM starts WHERE after_allowed < at + rate_period
  ORDER BY queue, at
)
SELECT CASE WHEN key IS NULL THEN 'queue_concurrency' ELSE 'key_concurrency' END,
       jsonb_build_object('queue', queue, 'limit', lim, 'running_at_once', running, 'at', at)
       || CASE WHEN key IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('key', key) END
FROM worst
UNION ALL
SELECT 'queue_rate', jsonb_build_object(
         'queue', queue, 'at', at, 'period_seconds', extract(epoch FROM rate_period),
         'started_in_period_more_than', allowed)
FROM too_fast
