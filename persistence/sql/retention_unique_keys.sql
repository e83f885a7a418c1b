-- Deletes up to $2 unique keys whose window ended before $1 (the pass's
-- now(), migration 026), oldest first (unique_keys_window_ends_idx): no
-- enqueue can name them again. Keys without a window are held for good.
-- A key some enqueue is taking is skipped, not waited for. Replies with
-- the count.
WITH gone AS (
  DELETE FROM leasehold.unique_keys
  WHERE unique_key IN (SELECT unique_key FROM leasehold.unique_keys
                       WHERE window_ends_at < $1::timestamptz
                       ORDER BY window_ends_at
                       LIMIT $2::integer
                       FOR UPDATE SKIP LOCKED)
  RETURNING 1)
SELECT count(*) FROM gone
