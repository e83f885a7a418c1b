-- Expired runs for scripts/bench-prune.sh: :runs runs (one partition each,
-- as a fan-out of single jobs), all completed :days days ago, made by two
-- INSERT ... SELECT generate_series into the migrated schema: runs 1..N with
-- correlation ids r-<id>, and for each the succeeded partition's job_runs
-- row (the job's columns, migration 011) plus, for 1 run in 10, a failed
-- first attempt. leasehold.jobs stays empty; both id sequences are moved
-- past N so the drain's jobs follow. The caller runs VACUUM ANALYZE.
\set ON_ERROR_STOP 1
INSERT INTO leasehold.runs (id, type, expected, correlation_id, created_at, completed_at)
OVERRIDING SYSTEM VALUE
SELECT g, 'fanout', 1, 'r-' || g, now() - (:days || ' days')::interval - interval '1 minute',
       now() - (:days || ' days')::interval + g * interval '1 ms'
FROM generate_series(1, :runs) AS g;
INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, started_at, finished_at, outcome,
                                error, type, queue, priority, payload, max_attempts, run_at,
                                correlation_id, run_id, partition_key, created_at)
SELECT g, a, 'leasehold-bench', now() - (:days || ' days')::interval,
       now() - (:days || ' days')::interval + g * interval '1 ms',
       CASE WHEN a = 2 OR g % 10 <> 0 THEN 'succeeded' ELSE 'failed' END,
       CASE WHEN a = 1 AND g % 10 = 0 THEN 'upstream answered 503' END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN 'part' END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN 'default' END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN 0 END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN jsonb_build_object('run', g, 'pad', repeat('x', 60)) END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN 25 END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN now() - (:days || ' days')::interval END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN 'r-' || g END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN g END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN 'p' END,
       CASE WHEN a = 2 OR g % 10 <> 0 THEN now() - (:days || ' days')::interval END
FROM generate_series(1, :runs) AS g
CROSS JOIN LATERAL (SELECT 1 AS a UNION ALL SELECT 2 WHERE g % 10 = 0) AS attempts;
SELECT setval(pg_get_serial_sequence('leasehold.jobs', 'id'), :runs + 1);
SELECT setval(pg_get_serial_sequence('leasehold.runs', 'id'), :runs + 1);
