-- pgbench script: leasehold's OWN claim + completion statements against its
-- real schema, so "the raw limit of leasehold's statements" can be set beside
-- the reference raw/claim_complete.sql (minimal table) and beside a node.
-- Mirrors (scripts/bench-peers.sh warns when these files change):
--   persistence/sql/job_claim.sql             sha256 cbcb0a6ac9eb
--   persistence/sql/job_complete_success.sql  sha256 b2ab6437d88a
-- To update: paste the two statements below again and replace their
-- parameters ($1 = 'w' || client_id, claim $2 = 'default', claim $3 = the
-- pgbench variable n, claim $4-$6 = the cursor variables cp, cr, ci,
-- claim $7 = the built-in types a plain node serves,
-- complete $2 = the gset variable done cast to jsonb,
-- $3 = 'infinity', $4 = false); keep the claim's
-- final SELECT folded to one row for gset (it also sets the next cursor,
-- as store::claim does); then put the new sha256 prefixes
-- above (sha256sum FILE | cut -c1-12). No colon-variables in comments:
-- pgbench would substitute them.
-- Run with: pgbench -M prepared -D n=<batch> -D cp=-32768 -D cr=-infinity
--   -D ci=0 -f leasehold_claim_complete.sql (the cursor starts at the head)
-- Like the node, each statement is its own (autocommit) transaction.

-- job_claim.sql: claim n jobs (their job_runs rows are written at the end).
WITH claimed AS (
  UPDATE leasehold.jobs AS j
  SET status = 'running', locked_by = 'w' || :client_id, locked_at = now(),
      heartbeat_at = now(), attempts = j.attempts + 1,
      trace_id = 'w' || :client_id || '-' || j.id || '-' || (j.attempts + 1),
      updated_at = now()
  WHERE j.id = ANY (ARRAY(
    SELECT id FROM leasehold.jobs
    WHERE status = 'queued' AND queue = 'default' AND run_at <= now()
      AND leasehold.instance_active('w' || :client_id)
      AND (priority, run_at, id) > (:cp::smallint, :cr::timestamptz, :ci::bigint)
      AND type = ANY ('{noop,sleep,fail}'::text[])
    ORDER BY priority, run_at, id
    LIMIT :n
    FOR UPDATE SKIP LOCKED))
  RETURNING j.id, j.type, j.queue, j.payload::text AS payload, j.attempts,
            j.max_attempts,
            leasehold.correlation_of(j.id, j.correlation_id) AS correlation_id,
            j.trace_id, j.priority, j.run_at
)
-- the node's final SELECT (same columns, same order), folded into one row;
-- a full batch moves the cursor to its last job, a short one resets it
SELECT coalesce(jsonb_agg(jsonb_build_array(id, attempts)), '[]') AS done,
       CASE WHEN count(*) = :n THEN (array_agg(priority ORDER BY priority DESC, run_at DESC, id DESC))[1]
            ELSE -32768 END AS cp,
       CASE WHEN count(*) = :n THEN (array_agg(run_at ORDER BY priority DESC, run_at DESC, id DESC))[1]::text
            ELSE '-infinity' END AS cr,
       CASE WHEN count(*) = :n THEN (array_agg(id ORDER BY priority DESC, run_at DESC, id DESC))[1]
            ELSE 0 END AS ci,
       json_agg(json_build_array(id, type, queue, payload, attempts, max_attempts,
                                 correlation_id, trace_id) ORDER BY priority, run_at, id) AS got
FROM claimed
\gset

-- job_complete_success.sql: fenced completion of the batch; each job leaves jobs
-- for its job_runs row.
WITH strict_failed AS (
  UPDATE leasehold.jobs AS j
  SET status = 'failed',
      last_error = 'succeeded without a trace_id (strict trace policy)',
      last_error_code = 'trace_policy', finished_at = now(), updated_at = now()
  FROM (SELECT (p ->> 0)::bigint AS id, (p ->> 1)::integer AS attempt,
               coalesce((p ->> 2)::bigint, 0) AS buffered_ms
        FROM jsonb_array_elements(:done::jsonb) AS p) AS i
  WHERE false::boolean
    AND j.id = i.id AND j.locked_by = 'w' || :client_id COLLATE "C" AND j.attempts = i.attempt
    AND j.status = 'running' COLLATE "C"
    AND leasehold.instance_active('w' || :client_id)
    AND j.trace_id IS NULL AND j.created_at >= 'infinity'::timestamptz
  RETURNING j.id, j.attempts, j.trace_id,
            j.locked_at + i.buffered_ms * interval '1 millisecond' AS started_at,
            j.run_id
), succeeded AS (
  DELETE FROM leasehold.jobs AS j
  USING (SELECT (p ->> 0)::bigint AS id, (p ->> 1)::integer AS attempt,
                coalesce((p ->> 2)::bigint, 0) AS buffered_ms
         FROM jsonb_array_elements(:done::jsonb) AS p) AS i
  WHERE j.id = i.id AND j.locked_by = 'w' || :client_id COLLATE "C" AND j.attempts = i.attempt
    AND j.status = 'running' COLLATE "C"
    AND leasehold.instance_active('w' || :client_id)
    AND NOT (false::boolean AND j.trace_id IS NULL
             AND j.created_at >= 'infinity'::timestamptz)
  RETURNING j.*, j.trace_id IS NULL AND j.created_at >= 'infinity'::timestamptz
                 AS violates,
            j.locked_at + i.buffered_ms * interval '1 millisecond' AS started_at
), runs AS (
  INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                  started_at, finished_at, outcome, error,
                                  type, queue, priority, payload,
                                  max_attempts, run_at, correlation_id,
                                  parent_id, run_id, partition_key,
                                  created_at)
  SELECT id, attempts, 'w' || :client_id, trace_id, started_at, now(), 'succeeded', NULL,
         type, queue, priority, payload, max_attempts, run_at, correlation_id,
         parent_id, run_id, partition_key, created_at
  FROM succeeded
  UNION ALL
  SELECT id, attempts, 'w' || :client_id, trace_id, started_at, now(), 'failed',
         'succeeded without a trace_id (strict trace policy)',
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM strict_failed
), violations AS (
  INSERT INTO leasehold.policy_violations (job_id, attempt, worker_id, policy,
                                           detail)
  SELECT id, attempts, 'w' || :client_id, 'trace_id_required',
         'job created at or after the trace-id cutoff succeeded without one'
  FROM (SELECT id, attempts FROM succeeded WHERE violates
        UNION ALL
        SELECT id, attempts FROM strict_failed) AS v
)
SELECT id, violates, run_id IS NOT NULL AS in_run FROM succeeded
UNION ALL
SELECT id, true, run_id IS NOT NULL FROM strict_failed;
