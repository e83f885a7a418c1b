-- Empties leasehold's tables and pre-loads :rows queued 'noop' jobs into the
-- real schema (made by `leasehold migrate`), the way leasehold-bench's bulk
-- enqueue leaves them (column defaults, due now), then VACUUM ANALYZE +
-- CHECKPOINT like the reference seed.sql.
TRUNCATE leasehold.jobs, leasehold.job_runs, leasehold.policy_violations RESTART IDENTITY CASCADE;
INSERT INTO leasehold.jobs (type, run_at)
SELECT 'noop', now() - interval '1 second' FROM generate_series(1, :rows);
VACUUM (ANALYZE) leasehold.jobs;
VACUUM (ANALYZE) leasehold.job_runs;
CHECKPOINT;
