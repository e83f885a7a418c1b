-- Deletes up to $2 worker instances STOPPED before $1, oldest first
-- (worker_instances_stopped_idx). Live ones are never touched; a row some
-- other session holds is skipped, not waited for. Replies with the count.
WITH gone AS (
  DELETE FROM leasehold.worker_instances
  WHERE worker_id IN (SELECT worker_id FROM leasehold.worker_instances
                      WHERE status = 'STOPPED' AND stopped_at < $1::timestamptz
                      ORDER BY stopped_at
                      LIMIT $2::integer
                      FOR UPDATE SKIP LOCKED)
    AND status = 'STOPPED'
  RETURNING 1)
SELECT count(*) FROM gone
