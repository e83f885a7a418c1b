-- Enqueues jobs created by handlers of parents that just succeeded. $1 is a
-- JSON array of {parent_id, type, payload, queue, priority, max_attempts,
-- unique_key, unique_while, unique_for_ms}; each child inherits its parent's
-- correlation id (job-<id> of a parent given none, so the chain stays one).
-- Runs in the same transaction as the parent's fenced success, so a stale
-- owner's children are never created. The parent has just moved to job_runs
-- (all_jobs). A child with a unique key goes through leasehold.enqueue()
-- (migration 017): while its key is held, it is not created.
WITH children AS (
  SELECT c.*, p.queue AS parent_queue,
         leasehold.correlation_of(p.id, p.correlation_id) AS chain
  FROM jsonb_to_recordset($1::jsonb)
    AS c (parent_id bigint, type text, payload jsonb, queue text,
          priority smallint, max_attempts integer, unique_key text,
          unique_while text, unique_for_ms bigint)
  JOIN leasehold.all_jobs AS p ON p.id = c.parent_id
), plain AS (
  INSERT INTO leasehold.jobs (type, payload, queue, priority, max_attempts,
                              correlation_id, parent_id)
  SELECT type, coalesce(payload, '{}'), coalesce(nullif(queue, ''), parent_queue),
         coalesce(priority, 0), coalesce(nullif(max_attempts, 0), 25), chain,
         parent_id
  FROM children
  WHERE coalesce(unique_key, '') = ''
)
SELECT e.id
FROM children AS c,
     LATERAL leasehold.enqueue(
       c.type, coalesce(c.payload, '{}'), coalesce(nullif(c.queue, ''), c.parent_queue),
       coalesce(c.priority, 0), nullif(c.max_attempts, 0), NULL, c.chain,
       c.unique_key, nullif(c.unique_while, ''),
       nullif(c.unique_for_ms, 0) * interval '1 millisecond', c.parent_id) AS e
WHERE coalesce(c.unique_key, '') <> ''
