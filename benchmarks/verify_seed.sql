-- Seeds a history for timing `leasehold verify` (scripts/bench-verify.sh):
-- :jobs jobs with :runs_per_job attempts each, every invariant holding.
--  * 80% succeeded: only in job_runs (migration 011), runs_per_job - 1
--    failed attempts then the success; a tenth of them are partitions of
--    completed runs of 100;
--  * 20% dead: in jobs, one failed run row per attempt;
--  * plus 10,000 queued and 1,000 running jobs, 64 registered workers.
\set ON_ERROR_STOP on
INSERT INTO leasehold.worker_instances (worker_id, worker_type, status, hostname,
                                        pid, version, lease_ttl_ms)
SELECT 'bench-' || gen_random_uuid(), 'default', 'RUNNING', 'bench', w, 'bench', 3600000
FROM generate_series(1, 64) AS w;
CREATE TEMP TABLE w AS
SELECT row_number() OVER (ORDER BY worker_id) - 1 AS n, worker_id
FROM leasehold.worker_instances;

-- Run rows first: succeeded jobs have no row in jobs.
SELECT :jobs * 8 / 10 AS ok_jobs \gset
INSERT INTO leasehold.runs (id, type, expected, created_at, completed_at)
OVERRIDING SYSTEM VALUE
SELECT r, 'noop', 100, now() - interval '2 days', now() - interval '1 day'
FROM generate_series(1, :ok_jobs / 10 / 100) AS r;

INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id, started_at,
                                finished_at, outcome, error, type, queue, priority,
                                payload, max_attempts, run_at, run_id, partition_key,
                                created_at)
SELECT j, a, w.worker_id,
       CASE WHEN a = :runs_per_job THEN w.worker_id || '-' || j || '-' || a END,
       now() - interval '1 day' + a * interval '1 second',
       now() - interval '1 day' + a * interval '1 second' + interval '10 ms',
       CASE WHEN a = :runs_per_job THEN 'succeeded' ELSE 'failed' END,
       CASE WHEN a = :runs_per_job THEN NULL ELSE 'boom' END,
       CASE WHEN a = :runs_per_job THEN 'noop' END,
       CASE WHEN a = :runs_per_job THEN 'default' END,
       CASE WHEN a = :runs_per_job THEN 0 END,
       CASE WHEN a = :runs_per_job THEN '{}'::jsonb END,
       CASE WHEN a = :runs_per_job THEN 25 END,
       CASE WHEN a = :runs_per_job THEN now() - interval '2 days' END,
       CASE WHEN a = :runs_per_job AND j <= :ok_jobs / 10 THEN (j - 1) / 100 + 1 END,
       CASE WHEN a = :runs_per_job AND j <= :ok_jobs / 10 THEN j::text END,
       CASE WHEN a = :runs_per_job THEN now() - interval '2 days' END
FROM generate_series(1, :ok_jobs) AS j
CROSS JOIN generate_series(1, :runs_per_job) AS a
JOIN w ON w.n = j % 64;

-- Dead jobs: ids after the succeeded ones.
INSERT INTO leasehold.jobs (id, type, status, attempts, max_attempts, run_at,
                            last_error, last_error_code, created_at, finished_at)
OVERRIDING SYSTEM VALUE
SELECT j, 'noop', 'failed', :runs_per_job, :runs_per_job, now() - interval '2 days',
       'boom', 'handler_error', now() - interval '2 days', now() - interval '1 day'
FROM generate_series(:ok_jobs + 1, :jobs) AS j;
INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at, finished_at,
                                outcome, error)
SELECT j, a, 'bench-dead', now() - interval '1 day', now() - interval '1 day', 'failed',
       'boom'
FROM generate_series(:ok_jobs + 1, :jobs) AS j
CROSS JOIN generate_series(1, :runs_per_job) AS a;

SELECT setval(pg_get_serial_sequence('leasehold.jobs', 'id'),
              (SELECT max(id) FROM leasehold.jobs));
INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 10000);
INSERT INTO leasehold.jobs (type, status, attempts, locked_by, locked_at, heartbeat_at,
                            trace_id)
SELECT 'noop', 'running', 1, w.worker_id, now(), now(), w.worker_id || '-x-1'
FROM generate_series(1, 1000) AS i JOIN w ON w.n = i % 64;
SELECT setval(pg_get_serial_sequence('leasehold.runs', 'id'),
              (SELECT max(id) FROM leasehold.runs));
VACUUM ANALYZE;
