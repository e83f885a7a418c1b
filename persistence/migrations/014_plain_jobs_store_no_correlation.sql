-- 014: a job given no correlation id stores none (NULL) and is known by
-- "job-<id>", the id of its own chain. Before, every job got a random uuid
-- that went into jobs_correlation_idx at enqueue and into
-- job_runs_succeeded_correlation_idx at success: with both indexes gone,
-- a bulk enqueue of plain jobs ran ~25% faster and a drain ~8% faster
-- (200k jobs, 4 interleaved rounds). Jobs that carry an id (given, or
-- inherited from a parent) are indexed as before; a chain's root without
-- one is found by its primary key. Rows written before keep their uuids.
ALTER TABLE leasehold.jobs ALTER COLUMN correlation_id DROP DEFAULT,
                           ALTER COLUMN correlation_id DROP NOT NULL;

DROP INDEX leasehold.jobs_correlation_idx;
CREATE INDEX jobs_correlation_idx ON leasehold.jobs (correlation_id, id)
  WHERE status <> 'running' AND correlation_id IS NOT NULL;
DROP INDEX leasehold.job_runs_succeeded_correlation_idx;
CREATE INDEX job_runs_succeeded_correlation_idx
  ON leasehold.job_runs (correlation_id)
  WHERE outcome = 'succeeded' AND correlation_id IS NOT NULL;

-- The correlation id job $1 is known by: its own, else "job-<id>". Every
-- statement that shows or passes on a correlation id goes through here.
CREATE FUNCTION leasehold.correlation_of(job_id bigint, correlation_id text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(correlation_id, 'job-' || job_id::text);

-- The job whose own chain correlation id $1 names ("job-<id>"), else NULL.
CREATE FUNCTION leasehold.chain_root(correlation_id text)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN correlation_id ~ '^job-[1-9][0-9]{0,17}$'
            THEN substr(correlation_id, 5)::bigint END;
