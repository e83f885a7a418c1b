-- Adds a schedule whose first tick is $10 (computed by the caller from the
-- database's clock); nothing if the name is taken.
INSERT INTO leasehold.schedules (name, cron, tz, type, payload, queue, priority,
                                 max_attempts, catch_up, next_tick_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10::timestamptz)
ON CONFLICT (name) DO NOTHING
RETURNING name
