-- Empties the reference jobs table and pre-loads :rows queued jobs (psql -v rows=N),
-- then VACUUM ANALYZE + CHECKPOINT so every pgbench run starts from the same state.
TRUNCATE jobs RESTART IDENTITY;
INSERT INTO jobs (queue, priority, run_at, payload)
SELECT 'default', 0, now() - interval '1 second', jsonb_build_object('n', g)
FROM generate_series(1, :rows) g;
VACUUM (ANALYZE) jobs;
CHECKPOINT;
