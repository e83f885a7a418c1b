-- The chains of the next runs completed before $1, after the keyset cursor
-- ($2 completed_at, $3 id), oldest first: as many as have at most $4
-- partitions in all (always one), so a batch stays small however the runs
-- are cut. runs_completed_idx.
SELECT correlation_id, completed_at, id, false
FROM (SELECT correlation_id, completed_at, id, expected,
             sum(expected) OVER (ORDER BY completed_at, id) AS upto
      FROM (SELECT correlation_id, completed_at, id, expected
            FROM leasehold.runs
            WHERE completed_at IS NOT NULL AND completed_at < $1::timestamptz
              AND (completed_at, id) > ($2::timestamptz, $3::bigint)
            ORDER BY completed_at, id
            LIMIT $4::integer) AS next) AS counted
WHERE upto - expected < $4::integer
ORDER BY completed_at, id
