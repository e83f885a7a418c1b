-- Moves schedule $1 on to its next tick $2 (a timestamp in its zone $3, or
-- with $4 milliseconds since the epoch), recording $5 new tick jobs, the
-- last of them $6 at $7 (NULL: none), and $8 missed ticks skipped.
UPDATE leasehold.schedules AS s
SET next_tick_at = CASE WHEN $4::boolean THEN to_timestamp($2::text::bigint / 1000.0)
                        ELSE $2::text::timestamp AT TIME ZONE $3 END,
    last_job_id = coalesce($6, s.last_job_id),
    last_tick_at = coalesce($7::timestamptz, s.last_tick_at),
    last_enqueued_at = CASE WHEN $6 IS NULL THEN s.last_enqueued_at ELSE now() END,
    ticks_enqueued = s.ticks_enqueued + $5,
    ticks_skipped = s.ticks_skipped + $8,
    updated_at = now()
WHERE s.name = $1
