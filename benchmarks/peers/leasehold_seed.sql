-- Empties leasehold's tables and pre-loads :rows queued 'noop' jobs into the
-- real schema (made by `leasehold migrate`), the way leasehold-bench's bulk
-- enqueue leaves them (column defaults, due now), then VACUUM ANALYZE +
-- CHECKPOINT like the reference seed.sql.
TRUNCATE leasehold.jobs, leasehold.job_runs, leasehold.policy_violations,
  leasehold.worker_instances RESTART IDENTITY CASCADE;
-- Every pgbench client claims and completes as a registered worker 'w<N>',
-- as a node does (a revoked or unknown worker id claims nothing).
INSERT INTO leasehold.worker_instances (worker_id, worker_type, status, hostname, pid, version)
SELECT 'w' || n, 'bench', 'RUNNING', 'pgbench', n, 'bench' FROM generate_series(0, 1023) AS n;
INSERT INTO leasehold.jobs (type, run_at)
SELECT 'noop', now() - interval '1 second' FROM generate_series(1, :rows);
VACUUM (ANALYZE) leasehold.jobs;
VACUUM (ANALYZE) leasehold.job_runs;
CHECKPOINT;
