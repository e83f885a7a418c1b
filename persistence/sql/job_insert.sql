-- Enqueues one job through leasehold.enqueue() (migration 017): NULL
-- parameters take the column defaults; a job given no correlation id stores
-- none and is known by job-<id> (migration 014). $8-$10: its unique key, how
-- long it is held and its window in milliseconds; $11 its concurrency key
-- (migration 023). Returns the id, and
-- whether it is that of an existing job holding the key.
SELECT id, duplicate
FROM leasehold.enqueue($1, $2::jsonb, $3, $4, $5, $6::timestamptz, $7, $8, $9,
                       $10::bigint * interval '1 millisecond', NULL, $11)
