-- Enqueues many jobs in one statement. $1 is a JSON array of objects with
-- the same fields as job_insert; missing fields take the column defaults.
INSERT INTO leasehold.jobs (type, payload, queue, priority, max_attempts,
                            run_at, correlation_id)
SELECT t.type, coalesce(t.payload, '{}'), coalesce(t.queue, 'default'),
       coalesce(t.priority, 0), coalesce(t.max_attempts, 25),
       coalesce(t.run_at, now()),
       coalesce(t.correlation_id, gen_random_uuid()::text)
FROM jsonb_to_recordset($1::jsonb)
  AS t (type text, payload jsonb, queue text, priority smallint,
        max_attempts integer, run_at timestamptz, correlation_id text)
RETURNING id
