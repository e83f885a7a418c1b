-- Inserts a run's partitions as jobs: $1 run id, $2 type, $3 correlation id,
-- $4 max attempts (NULL: default), $5 JSON array of {key, payload}. A
-- duplicate key violates jobs_run_partition_idx and rolls the run back.
INSERT INTO leasehold.jobs (type, payload, correlation_id, max_attempts,
                            run_id, partition_key)
SELECT $2, coalesce(p.payload, '{}'), $3, coalesce($4::integer, 25), $1::bigint, p.key
FROM jsonb_to_recordset($5::jsonb) AS p (key text, payload jsonb)
