-- History for scripts/bench-history.sh: :rows attempts in leasehold.job_runs
-- (10,000,000 by default), made by ONE INSERT ... SELECT over
-- generate_series into the migrated schema, through every index and check
-- the table has (the primary key (job_id, attempt), the partial indexes of
-- succeeded runs by correlation and run, the BRIN index by finish time).
-- The shape of a busy deployment's past :days days, in finish-time order
-- as completions write it:
--   * jobs 1..J, created evenly over the :days days; 90% succeed at once,
--     5% after one failed attempt, 5% after two (rows per job 1.15 on
--     average), so ~87% of the rows are successes and ~13% failures;
--   * a failed attempt: outcome 'failed', an error text of ~40 bytes, no
--     job columns (the schema keeps those only on the success); the next
--     attempt 2^attempt seconds later (the retry backoff);
--   * a success carries the job: one of 5 types, queue 'default', a JSON
--     payload of ~130 bytes, and a correlation id on 1 job in 10;
--   * 8 worker ids as nodes name themselves (leasehold-<uuid>), trace ids
--     <worker>-<job>-<attempt>, handler times 5-250 ms.
-- leasehold.jobs stays empty (every job of the past succeeded), and its id
-- sequence is moved past J so new jobs follow the history's ids. The
-- caller runs VACUUM ANALYZE afterwards.
\set ON_ERROR_STOP 1
SELECT ceil(:'rows'::bigint / 1.15)::bigint + 1 AS njobs \gset
INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id, started_at, finished_at,
                                outcome, error, type, queue, priority, payload, max_attempts,
                                run_at, correlation_id, created_at)
SELECT j.id, a.n, j.worker, j.worker || '-' || j.id || '-' || a.n,
       j.created + (2 ^ a.n - 2) * interval '1 second' + interval '3 ms',
       j.created + (2 ^ a.n - 2) * interval '1 second' + interval '3 ms' + j.handler_ms * interval '1 ms',
       CASE WHEN a.n = j.attempts THEN 'succeeded' ELSE 'failed' END,
       CASE WHEN a.n < j.attempts THEN 'upstream answered 503 Service Unavailable' END,
       CASE WHEN a.n = j.attempts THEN j.type END,
       CASE WHEN a.n = j.attempts THEN 'default' END,
       CASE WHEN a.n = j.attempts THEN 0 END,
       CASE WHEN a.n = j.attempts THEN jsonb_build_object(
         'account_id', j.id % 50000, 'template', (ARRAY['welcome', 'receipt', 'reminder', 'digest'])[1 + j.id % 4],
         'locale', 'en-GB', 'request_id', md5(j.id::text), 'deadline_ms', 30000) END,
       CASE WHEN a.n = j.attempts THEN 25 END,
       CASE WHEN a.n = j.attempts THEN j.created END,
       CASE WHEN a.n = j.attempts AND j.id % 10 = 0 THEN 'order-' || (j.id / 10) END,
       CASE WHEN a.n = j.attempts THEN j.created END
FROM (SELECT g AS id,
             1 + (g % 20 IN (0, 1))::int + (g % 20 = 0)::int AS attempts,
             now() - :'days'::int * interval '1 day' * (1 - g::float8 / :njobs) AS created,
             'leasehold-' || md5('worker ' || g % 8)::uuid AS worker,
             (ARRAY['send_email', 'resize_image', 'sync_account', 'deliver_webhook', 'build_report'])[1 + g % 5] AS type,
             5 + (g * 7919) % 246 AS handler_ms
      FROM generate_series(1::bigint, :njobs) AS g) AS j
CROSS JOIN LATERAL generate_series(1, j.attempts) AS a (n)
LIMIT :'rows'::bigint;
SELECT setval(pg_get_serial_sequence('leasehold.jobs', 'id'), :njobs + 1);
