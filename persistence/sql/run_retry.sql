-- Queues again the partitions of run $1 that are failed at this moment:
-- all of them, or only key $2. Other partitions (queued, running,
-- succeeded) do not change, so retrying twice queues once. Each retried
-- partition gets one more attempt than it has used; the run is running
-- again (its on-complete job, if already enqueued, is not repeated).
WITH retried AS (
  UPDATE leasehold.jobs AS j
  SET status = 'queued', run_at = now(), finished_at = NULL, locked_by = NULL,
      heartbeat_at = NULL, max_attempts = greatest(j.max_attempts, j.attempts + 1),
      updated_at = now()
  WHERE j.run_id = $1 AND j.status = 'failed'
    AND ($2::text IS NULL OR j.partition_key = $2::text)
  RETURNING j.partition_key
), reopened AS (
  UPDATE leasehold.runs SET completed_at = NULL
  WHERE id = $1 AND EXISTS (SELECT 1 FROM retried)
)
SELECT coalesce(jsonb_agg(partition_key ORDER BY partition_key), '[]')::text
FROM retried
