-- 025: retention. History older than its kind's retention is deleted by one
-- node at a time, in small batches, each its own short transaction.
--
-- The unit that goes is a chain: every job of one correlation id (a job
-- given none is the chain "job-<id>" of its own, with its children;
-- migration 014), with the runs of that correlation id (a run's partitions
-- and on-complete job carry the run's id, migration 004). A chain goes whole
-- or stays whole: only when every one of its jobs has ended and is expired
-- (a succeeded job after retain-succeeded, a failed or cancelled one after
-- retain-dead, a run's partition when its run completed before retain-runs),
-- when every run of it completed before retain-runs, and when none of its
-- jobs holds a key in leasehold.unique_keys (a duplicate enqueue answers
-- with that job's id). A run therefore goes only with all its partitions.
--
-- Pruning only deletes rows of ended jobs and completed runs, which claims,
-- renewals and completions never touch; the few writers that can turn such
-- a row live again (retry of a dead job or run) wait on the batch's row
-- locks for its few milliseconds, then find the job gone.

-- One cheap batch per kind: the oldest expired rows, through a btree in
-- age order (a keyset cursor walks past chains that must stay). Dead jobs
-- of runs are left out: they go with their run. Succeeded jobs are walked
-- in job_runs' primary-key order instead (retention_succeeded_batch.sql):
-- a btree by finish time there would cost every completion an entry.
CREATE INDEX jobs_dead_finished_idx ON leasehold.jobs (finished_at, id)
  WHERE status IN ('failed', 'cancelled') AND run_id IS NULL;
CREATE INDEX runs_completed_idx ON leasehold.runs (completed_at, id)
  WHERE completed_at IS NOT NULL;
-- A chain finds its runs, and a job its held key.
CREATE INDEX runs_correlation_idx ON leasehold.runs (correlation_id);
CREATE INDEX unique_keys_job_idx ON leasehold.unique_keys (job_id);
CREATE INDEX worker_instances_stopped_idx
  ON leasehold.worker_instances (stopped_at) WHERE status = 'STOPPED';

-- Deletes the chains named (correlation ids as correlation_of() gives them)
-- that may go whole; keeps the others untouched. Returns what went: the
-- succeeded jobs, the dead (failed or cancelled) jobs, the runs, and every
-- job_runs row (attempts). The caller's transaction should bound its lock
-- waits (lock_timeout): pruning never needs to wait long.
CREATE FUNCTION leasehold.prune_chains(
    chains text[], succeeded_before timestamptz, dead_before timestamptz,
    runs_before timestamptz,
    OUT succeeded bigint, OUT dead bigint, OUT runs bigint, OUT attempts bigint)
LANGUAGE plpgsql AS $$
DECLARE
  roots bigint[] := ARRAY(SELECT leasehold.chain_root(c) FROM unnest(chains) AS c
                          WHERE leasehold.chain_root(c) IS NOT NULL);
  doomed_jobs bigint[];
  doomed_runs bigint[];
BEGIN
  -- First lock what a retry could make live again (ended jobs, completed
  -- runs). The check below reads with a fresh snapshot, after the locks are
  -- held: an ended job seen ended stays so until we commit, and one that
  -- ended after the lock ended just now, so it is not expired.
  PERFORM 1 FROM leasehold.jobs AS j
  WHERE (j.correlation_id = ANY (chains) AND j.status <> 'running'
         AND j.status IN ('failed', 'cancelled'))
     OR (j.id = ANY (roots) AND j.correlation_id IS NULL
         AND j.status IN ('failed', 'cancelled'))
  ORDER BY j.id FOR UPDATE OF j;
  PERFORM 1 FROM leasehold.runs AS r
  WHERE r.correlation_id = ANY (chains) AND r.completed_at IS NOT NULL
  ORDER BY r.id FOR UPDATE OF r;

  WITH ch AS (SELECT DISTINCT c AS chain FROM unnest(chains) AS c),
  members AS (
    -- jobs_correlation_idx leaves out running jobs (migration 008): those
    -- few come through jobs_running_idx.
    SELECT ch.chain, j.id, j.status, j.finished_at, j.run_id
    FROM ch JOIN leasehold.jobs AS j
      ON j.correlation_id = ch.chain AND j.status <> 'running'
    UNION ALL
    SELECT j.correlation_id, j.id, j.status, j.finished_at, j.run_id
    FROM leasehold.jobs AS j
    WHERE j.status = 'running' AND j.correlation_id = ANY (chains)
    UNION ALL
    SELECT ch.chain, j.id, j.status, j.finished_at, j.run_id
    FROM ch JOIN leasehold.jobs AS j
      ON j.id = leasehold.chain_root(ch.chain) AND j.correlation_id IS NULL
    UNION ALL
    SELECT ch.chain, r.job_id, 'succeeded', r.finished_at, r.run_id
    FROM ch JOIN leasehold.job_runs AS r
      ON r.correlation_id = ch.chain AND r.outcome = 'succeeded'
    UNION ALL
    SELECT ch.chain, r.job_id, 'succeeded', r.finished_at, r.run_id
    FROM ch JOIN leasehold.job_runs AS r
      ON r.job_id = leasehold.chain_root(ch.chain) AND r.outcome = 'succeeded'
         AND r.correlation_id IS NULL
  ),
  chain_runs AS (
    SELECT ch.chain, r.id, r.completed_at
    FROM ch JOIN leasehold.runs AS r ON r.correlation_id = ch.chain
  ),
  blocked AS (
    SELECT m.chain FROM members AS m
    WHERE m.status IN ('queued', 'running')
       OR (m.run_id IS NULL AND m.status = 'succeeded'
           AND m.finished_at >= succeeded_before)
       OR (m.run_id IS NULL AND m.status IN ('failed', 'cancelled')
           AND (m.finished_at IS NULL OR m.finished_at >= dead_before))
       OR (m.run_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM chain_runs AS cr WHERE cr.id = m.run_id))
       OR EXISTS (SELECT 1 FROM leasehold.unique_keys AS k WHERE k.job_id = m.id)
    UNION
    SELECT cr.chain FROM chain_runs AS cr
    WHERE cr.completed_at IS NULL OR cr.completed_at >= runs_before
  )
  SELECT coalesce((SELECT array_agg(DISTINCT m.id) FROM members AS m
                   WHERE m.chain NOT IN (SELECT chain FROM blocked)), '{}'),
         coalesce((SELECT array_agg(DISTINCT cr.id) FROM chain_runs AS cr
                   WHERE cr.chain NOT IN (SELECT chain FROM blocked)), '{}')
  INTO doomed_jobs, doomed_runs;

  WITH gone AS (
    DELETE FROM leasehold.job_runs WHERE job_id = ANY (doomed_jobs)
    RETURNING outcome)
  SELECT count(*), count(*) FILTER (WHERE outcome = 'succeeded')
  INTO attempts, succeeded FROM gone;
  WITH gone AS (
    DELETE FROM leasehold.jobs
    WHERE id = ANY (doomed_jobs) AND status IN ('failed', 'cancelled')
    RETURNING 1)
  SELECT count(*) INTO dead FROM gone;
  -- After their jobs: a run with jobs cannot be deleted (migration 013).
  WITH gone AS (
    DELETE FROM leasehold.runs WHERE id = ANY (doomed_runs) RETURNING 1)
  SELECT count(*) INTO runs FROM gone;
END $$;
