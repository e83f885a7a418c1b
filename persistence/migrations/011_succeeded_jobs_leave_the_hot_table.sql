-- 011: a job that succeeds leaves the jobs table. Its fenced completion
-- deletes the row and writes the attempt's job_runs row with the job itself
-- in it (type, payload, correlation, ...). Before, a success wrote a second
-- row version of the job with two index entries, and a separate job_runs
-- row: pgbench of the claim and completion at batches of 500, +20-45%
-- (section 3 of benchmarks/RESULTS.md). jobs keeps what is queued, running,
-- dead or cancelled, so it stays small however much history there is.
--
-- Readers see every job, succeeded or not, through the view all_jobs.
-- Every attempt still has its job_runs row; only the row of the attempt that
-- succeeded carries the job's columns. Stop nodes of older versions before
-- migrating: they would leave their successes in jobs (all_jobs still shows
-- them, but they stay in the hot table).

-- Byte-order comparison for correlation ids: they are only ever looked up
-- by equality, and the index insert on every success then costs the same
-- whatever the database's collation (en_US.UTF-8 would compare through
-- strcoll). Both tables use it so the view can union them.
ALTER TABLE leasehold.jobs ALTER COLUMN correlation_id TYPE text COLLATE "C";

ALTER TABLE leasehold.job_runs
  ADD COLUMN type           text,
  ADD COLUMN queue          text,
  ADD COLUMN priority       smallint,
  ADD COLUMN payload        jsonb,
  ADD COLUMN max_attempts   integer,
  ADD COLUMN run_at         timestamptz,
  ADD COLUMN correlation_id text COLLATE "C",
  ADD COLUMN parent_id      bigint,
  ADD COLUMN run_id         bigint,
  ADD COLUMN partition_key  text,
  ADD COLUMN created_at     timestamptz;

-- Move the jobs that already succeeded into the job_runs row of their last
-- attempt (since migration 009 every one has it). The job's status decides
-- the outcome, so a row left open or stale cannot make the job vanish with
-- the DELETE below; a job without the row gets one.
UPDATE leasehold.job_runs AS r
SET outcome = 'succeeded', error = NULL,
    finished_at = coalesce(r.finished_at, j.finished_at, now()),
    type = j.type, queue = j.queue, priority = j.priority,
    payload = j.payload, max_attempts = j.max_attempts, run_at = j.run_at,
    correlation_id = j.correlation_id, parent_id = j.parent_id,
    run_id = j.run_id, partition_key = j.partition_key,
    created_at = j.created_at
FROM leasehold.jobs AS j
WHERE r.job_id = j.id AND r.attempt = j.attempts AND j.status = 'succeeded';
INSERT INTO leasehold.job_runs (job_id, attempt, worker_id, trace_id,
                                started_at, finished_at, outcome, type, queue,
                                priority, payload, max_attempts, run_at,
                                correlation_id, parent_id, run_id,
                                partition_key, created_at)
SELECT j.id, j.attempts, coalesce(j.locked_by, 'unknown'), j.trace_id,
       coalesce(j.locked_at, j.created_at), coalesce(j.finished_at, now()),
       'succeeded', j.type, j.queue, j.priority, j.payload, j.max_attempts,
       j.run_at, j.correlation_id, j.parent_id, j.run_id, j.partition_key,
       j.created_at
FROM leasehold.jobs AS j
WHERE j.status = 'succeeded'
  AND NOT EXISTS (SELECT 1 FROM leasehold.job_runs AS r
                  WHERE r.job_id = j.id AND r.attempt = j.attempts);
DELETE FROM leasehold.jobs WHERE status = 'succeeded';
ALTER TABLE leasehold.job_runs ADD CONSTRAINT job_runs_only_a_success_holds_its_job
  CHECK (type IS NULL OR outcome = 'succeeded');

-- Chains and runs find their succeeded jobs here.
CREATE INDEX job_runs_succeeded_correlation_idx
  ON leasehold.job_runs (correlation_id) WHERE outcome = 'succeeded';
CREATE INDEX job_runs_succeeded_run_idx ON leasehold.job_runs (run_id)
  WHERE outcome = 'succeeded' AND run_id IS NOT NULL;

-- Every job, with the columns of leasehold.jobs: the live and dead ones from
-- jobs, the succeeded ones from their last job_runs row.
CREATE VIEW leasehold.all_jobs AS
SELECT id, type, queue, priority, payload, status, attempts, max_attempts,
       run_at, locked_by, locked_at, heartbeat_at, correlation_id, trace_id,
       parent_id, last_error, last_error_code, created_at, updated_at,
       finished_at, run_id, partition_key
FROM leasehold.jobs
UNION ALL
SELECT job_id, type, queue, priority, payload, 'succeeded', attempt,
       max_attempts, run_at, worker_id, started_at, NULL, correlation_id,
       trace_id, parent_id, NULL, NULL, created_at, finished_at, finished_at,
       run_id, partition_key
FROM leasehold.job_runs
WHERE outcome = 'succeeded';

-- A run's progress counts its succeeded partitions too.
CREATE OR REPLACE VIEW leasehold.run_progress AS
SELECT r.id, c.queued, c.running, c.succeeded, c.failed, c.cancelled,
       CASE WHEN c.queued + c.running > 0 THEN 'running'
            WHEN c.succeeded = r.expected THEN 'completed'
            WHEN c.succeeded = 0 THEN 'failed'
            ELSE 'partial' END AS status
FROM leasehold.runs AS r
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
         count(*) FILTER (WHERE status = 'running') AS running,
         count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE status = 'cancelled') AS cancelled
  FROM leasehold.all_jobs WHERE run_id = r.id) AS c;
