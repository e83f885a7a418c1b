-- Enqueues one job; NULL parameters take the column defaults.
INSERT INTO leasehold.jobs (type, payload, queue, priority, max_attempts,
                            run_at, correlation_id)
VALUES ($1, $2::jsonb, coalesce($3, 'default'), coalesce($4, 0),
        coalesce($5, 25), coalesce($6::timestamptz, now()),
        coalesce($7, gen_random_uuid()::text))
RETURNING id
