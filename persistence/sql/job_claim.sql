-- Claims up to $3 due jobs of queue $2 for worker $1, in priority, run_at,
-- id order, in ONE statement. The running attempt lives in the job row
-- (locked_by, attempts, locked_at, trace_id); its job_runs row is written
-- once, by whichever statement ends the attempt (migration 009).
-- SKIP LOCKED lets concurrent nodes take disjoint rows without waiting.
-- attempts is incremented here, so (locked_by, attempts) is the lease token
-- every later write is fenced by.
-- The picked ids go in as an array so the UPDATE reaches its rows through
-- the primary key; joining a CTE instead lets the planner hash-join against
-- a scan of the whole table, whose cost grows with the queue.
WITH claimed AS (
  UPDATE leasehold.jobs AS j
  SET status = 'running', locked_by = $1, locked_at = now(),
      heartbeat_at = now(), attempts = j.attempts + 1,
      trace_id = $1 || '-' || j.id || '-' || (j.attempts + 1),
      updated_at = now()
  WHERE j.id = ANY (ARRAY(
    SELECT id FROM leasehold.jobs
    WHERE status = 'queued' AND queue = $2 AND run_at <= now()
    ORDER BY priority, run_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED))
  RETURNING j.id, j.type, j.queue, j.payload::text AS payload, j.attempts,
            j.max_attempts, j.correlation_id, j.trace_id, j.priority, j.run_at
)
SELECT id, type, queue, payload, attempts, max_attempts, correlation_id,
       trace_id
FROM claimed
ORDER BY priority, run_at, id
