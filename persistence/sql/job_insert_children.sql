-- Enqueues jobs created by handlers of parents that just succeeded. $1 is a
-- JSON array of {parent_id, type, payload, queue, priority, max_attempts};
-- each child inherits its parent's correlation id (job-<id> of a parent
-- given none, so the chain stays one). Runs in the same
-- transaction as the parent's fenced success, so a stale owner's children
-- are never created. The parent has just moved to job_runs (all_jobs).
INSERT INTO leasehold.jobs (type, payload, queue, priority, max_attempts,
                            correlation_id, parent_id)
SELECT c.type, coalesce(c.payload, '{}'), coalesce(nullif(c.queue, ''), p.queue),
       coalesce(c.priority, 0), coalesce(nullif(c.max_attempts, 0), 25),
       leasehold.correlation_of(p.id, p.correlation_id), p.id
FROM jsonb_to_recordset($1::jsonb)
  AS c (parent_id bigint, type text, payload jsonb, queue text,
        priority smallint, max_attempts integer)
JOIN leasehold.all_jobs AS p ON p.id = c.parent_id
