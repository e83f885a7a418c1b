-- leasehold verify, concurrency limits (migration 022; see
-- persistence/verify.hpp): no queue with a limit ever had more of its
-- attempts running at once than its limit now is. Each attempt spans its run
-- row's started_at (the handler's start) to finished_at (its outcome
-- written); a running attempt spans locked_at to now. Claims count a job as
-- held from its claim to its outcome's write, which covers that span, so the
-- sweep below can only find overlaps the limit did not prevent. Attempts
-- that finished at or after $1 (and running ones). A limit lowered since
-- judges older attempts by the new figure.
WITH p AS (
  SELECT $1::timestamptz AS since, $2::bigint AS grace_ms,
         $3::timestamptz AS trace_cutoff, $4::bigint AS default_ttl_ms
), limited AS (
  SELECT name, concurrency FROM leasehold.queues WHERE concurrency IS NOT NULL
), attempts AS (
  -- A run row carries its queue only for a success (migration 011); the
  -- others take it from their job, live or succeeded.
  SELECT coalesce(r.queue, j.queue, s.queue) AS queue, r.job_id, r.attempt,
         r.started_at, r.finished_at
  FROM leasehold.job_runs AS r
  LEFT JOIN leasehold.jobs AS j ON r.queue IS NULL AND j.id = r.job_id
  LEFT JOIN leasehold.job_runs AS s
    ON r.queue IS NULL AND j.id IS NULL AND s.job_id = r.job_id
   AND s.outcome = 'succeeded'
  CROSS JOIN p
  WHERE r.finished_at >= p.since AND r.outcome <> 'snoozed'
    AND EXISTS (SELECT 1 FROM limited)
  UNION ALL
  SELECT j.queue, j.id, j.attempts, j.locked_at, now()
  FROM leasehold.jobs AS j
  WHERE j.status = 'running' AND j.queue IN (SELECT name FROM limited)
), events AS (
  SELECT a.queue, a.started_at AS at, 1 AS delta, a.job_id, a.attempt
  FROM attempts AS a JOIN limited AS l ON l.name = a.queue
  UNION ALL
  SELECT a.queue, a.finished_at, -1, a.job_id, a.attempt
  FROM attempts AS a JOIN limited AS l ON l.name = a.queue
), sweep AS (
  -- At the same instant an end counts before a start.
  SELECT queue, at, sum(delta) OVER (PARTITION BY queue ORDER BY at, delta
                                     ROWS UNBOUNDED PRECEDING) AS running
  FROM events
), worst AS (
  SELECT DISTINCT ON (s.queue) s.queue, s.at, s.running, l.concurrency
  FROM sweep AS s JOIN limited AS l ON l.name = s.queue
  WHERE s.running > l.concurrency
  ORDER BY s.queue, s.running DESC, s.at
)
SELECT 'queue_concurrency', jsonb_build_object(
         'queue', queue, 'limit', concurrency, 'running_at_once', running, 'at', at)
FROM worst
