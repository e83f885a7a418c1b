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
WITH claimed AS (
  UPDATE leasehold.jobs AS j
  -- The clock after the pick, not now(): a claim of a limited queue may
  -- wait for the queue's lock inside this statement, and its attempts start
  -- after. A sub-SELECT: read once, when the first row is updated, so one
  -- claim's jobs share one locked_at.
  SET status = 'running', locked_by = $1, locked_at = (SELECT clock_timestamp()),
      heartbeat_at = now(), attempts = j.attempts + 1,
      trace_id = $1 || '-' || j.id || '-' || (j.attempts + 1),
      updated_at = now()
  WHERE j.id = ANY (ARRAY(
    SELECT id FROM leasehold.jobs
    WHERE status = 'queued' AND queue = $2 AND run_at <= now()
      -- A revoked worker id (marked STOPPED by others) claims nothing.
      AND leasehold.instance_active($1)
      AND (priority, run_at, id) > ($4::smallint, $5::timestamptz, $6::bigint)
      AND type = ANY ($7::text[])
    ORDER BY priority, run_at, id
    -- Nothing from a paused queue (migration 021), no more than a limited
    -- queue's concurrency leaves (022). A sub-SELECT: evaluated once per
    -- claim, before the scan.
    LIMIT (SELECT leasehold.claim_slots($2, $3))
    FOR UPDATE SKIP LOCKED))
  RETURNING j.id, j.type, j.queue, j.payload::text AS payload, j.attempts,
            j.max_attempts,
            leasehold.correlation_of(j.id, j.correlation_id) AS correlation_id,
            j.trace_id, j.priority, j.run_at
)
SELECT id, type, queue, payload, attempts, max_attempts, correlation_id,
       trace_id, priority, run_at
FROM claimed
ORDER BY priority, run_at, id
