-- Claims up to $3 due jobs of queue $2 for worker $1, in priority, run_at,
-- id order, in ONE statement. Only jobs of the types in $7 (those the node
-- has handlers for): a job of another type stays queued for a node that
-- knows it, and the walk along jobs_claim_idx steps over it.
-- The running attempt lives in the job row
-- (locked_by, attempts, locked_at, trace_id); its job_runs row is written
-- once, by whichever statement ends the attempt (migration 009).
-- SKIP LOCKED lets concurrent nodes take disjoint rows without waiting.
-- attempts is incremented here, so (locked_by, attempts) is the lease token
-- every later write is fenced by.
-- The picked ids go in as an array so the UPDATE reaches its rows through
-- the primary key; joining a CTE instead lets the planner hash-join against
-- a scan of the whole table, whose cost grows with the queue.
-- ($4, $5, $6) is the claim cursor: the (priority, run_at, id) of the last
-- job this connection claimed in a full batch. Claimed jobs leave dead
-- entries at the head of jobs_claim_idx until VACUUM removes them; starting
-- past them keeps a claim from walking every job claimed since the last
-- VACUUM (~5 ms per 150k). The caller resets the cursor after a short batch
-- and after claim_cursor_max_age, so a job that sorts before it (a higher
-- priority, a past run_at) waits at most that long.
WITH slots AS (
  -- Nothing from a paused queue (migration 021), no more than a limited
  -- queue's concurrency leaves (022). Evaluated once per claim, before the
  -- pick.
  SELECT leasehold.claim_slots($2, $3) AS n
), picked AS (
  SELECT CASE
    -- A queue with keyed jobs waiting (migration 023): each key's limit is
    -- checked as the jobs are picked. The same snapshot as the plain pick,
    -- which therefore meets no keyed job.
    WHEN EXISTS (SELECT 1 FROM leasehold.jobs
                 WHERE status = 'queued' AND queue = $2
                   AND concurrency_key IS NOT NULL)
    THEN leasehold.pick_keyed($1, $2, (SELECT n FROM slots), $7::text[])
    ELSE ARRAY(
    SELECT id FROM leasehold.jobs
    WHERE status = 'queued' AND queue = $2 AND run_at <= now()
      -- A revoked worker id (marked STOPPED by others) claims nothing.
      AND leasehold.instance_active($1)
      AND (priority, run_at, id) > ($4::smallint, $5::timestamptz, $6::bigint)
      AND type = ANY ($7::text[]) AND concurrency_key IS NULL
    ORDER BY priority, run_at, id
    LIMIT (SELECT n FROM slots)
    FOR UPDATE SKIP LOCKED) END AS ids
), claimed AS (
  UPDATE leasehold.jobs AS j
  -- The clock after the pick, not now(): a claim of a limited queue may
  -- wait for the queue's lock inside this statement, and its attempts start
  -- after. A sub-SELECT: read once, when the first row is updated, so one
  -- claim's jobs share one locked_at.
  SET status = 'running', locked_by = $1, locked_at = (SELECT clock_timestamp()),
      heartbeat_at = now(), attempts = j.attempts + 1,
      trace_id = $1 || '-' || j.id || '-' || (j.attempts + 1),
      updated_at = now()
  -- A sub-SELECT: the ids are picked once, and each row is reached
  -- through the primary key.
  WHERE j.id = ANY ((SELECT ids FROM picked)::bigint[])
  RETURNING j.id, j.type, j.queue, j.payload::text AS payload, j.attempts,
            j.max_attempts,
            leasehold.correlation_of(j.id, j.correlation_id) AS correlation_id,
            j.trace_id, j.priority, j.run_at
)
SELECT id, type, queue, payload, attempts, max_attempts, correlation_id,
       trace_id, priority, run_at
FROM claimed
-- A rate-limited queue's bucket pays for the jobs taken (migration 024);
-- a claim that took none has no row here, and nothing to pay.
CROSS JOIN (SELECT leasehold.rate_paid($2, count(*)) FROM claimed) AS paid
ORDER BY priority, run_at, id
