-- Deletes up to $2 trace-policy violations recorded before $1, oldest first
-- (policy_violations_created_idx). Replies with the count.
WITH gone AS (
  DELETE FROM leasehold.policy_violations
  WHERE id IN (SELECT id FROM leasehold.policy_violations
               WHERE created_at < $1::timestamptz
               ORDER BY created_at
               LIMIT $2::integer
               FOR UPDATE SKIP LOCKED)
  RETURNING 1)
SELECT count(*) FROM gone
