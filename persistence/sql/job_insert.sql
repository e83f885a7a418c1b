-- Enqueues one job; NULL parameters take the column defaults. A job given
-- no correlation id stores none and is known by job-<id> (migration 014).
INSERT INTO leasehold.jobs (type, payload, queue, priority, max_attempts,
                            run_at, correlation_id)
VALUES ($1, $2::jsonb, coalesce($3, 'default'), coalesce($4, 0),
        coalesce($5, 25), coalesce($6::timestamptz, now()),
        $7)
RETURNING id
