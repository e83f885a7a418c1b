-- 017: unique jobs, and enqueueing through SQL functions.
--
-- A job may carry a unique key; while the key is held, enqueueing another
-- job with it creates nothing and answers with the holder's id. The database
-- enforces it with unique indexes, so concurrent enqueues from any number of
-- clients create one job. How long a key is held (unique_while):
--   queued  until the job first starts (a retry or a job handed back does
--           not take it again);
--   active  while the job is queued or running (its retries included), so
--           until it succeeds, dies or is cancelled;
--   any     for good: remembered in leasehold.unique_keys, because a job
--           that succeeds leaves the jobs table (migration 011).
-- unique_for bounds any of them to a window of time: the key held is the key
-- plus the start of the current window (windows of that length counted from
-- the Unix epoch, in the database's clock), so the next window holds a new
-- key. queued and active keys share one index; any keys are a namespace of
-- their own.

ALTER TABLE leasehold.jobs
  ADD COLUMN unique_key text COLLATE "C",
  ADD COLUMN unique_while text
    CHECK (unique_while IN ('queued', 'active', 'any')),
  ADD CONSTRAINT jobs_unique_key_has_a_mode
    CHECK ((unique_key IS NULL) = (unique_while IS NULL));

-- Jobs without a key are not in it (the predicate is false), so the claim
-- and the completion of ordinary jobs write nothing more.
CREATE UNIQUE INDEX jobs_unique_key_idx ON leasehold.jobs (unique_key)
  WHERE unique_key IS NOT NULL
    AND (unique_while = 'active' AND status IN ('queued', 'running')
         OR unique_while = 'queued' AND status = 'queued' AND attempts = 0);

-- The job that holds `key` in jobs_unique_key_idx, if any.
CREATE FUNCTION leasehold.unique_key_holder(key text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT id FROM leasehold.jobs
  WHERE unique_key = key
    AND (unique_while = 'active' AND status IN ('queued', 'running')
         OR unique_while = 'queued' AND status = 'queued' AND attempts = 0)
$$;

CREATE TABLE leasehold.unique_keys (
  unique_key text COLLATE "C" PRIMARY KEY,
  job_id     bigint      NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The key as held: with unique_for, the key and its window's start.
CREATE FUNCTION leasehold.unique_key_held(unique_key text, unique_for interval)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN unique_for IS NULL THEN unique_key
    ELSE unique_key || '@' || to_char(
      to_timestamp(floor(extract(epoch FROM now()) / extract(epoch FROM unique_for))
                   * extract(epoch FROM unique_for)) AT TIME ZONE 'UTC',
      'YYYY-MM-DD"T"HH24:MI:SS"Z"') END
$$;

-- Enqueues one job inside the caller's transaction (a rollback leaves no
-- job; the commit wakes idle nodes through the jobs table's NOTIFY trigger).
-- NULL arguments take the table's defaults. Returns the new job's id, or,
-- when a job already holds unique_key, that job's id with duplicate = true.
-- parent_id is for leasehold's own children of a succeeding job.
CREATE FUNCTION leasehold.enqueue(
    type           text,
    payload        jsonb       DEFAULT '{}',
    queue          text        DEFAULT NULL,
    priority       integer     DEFAULT NULL,
    max_attempts   integer     DEFAULT NULL,
    run_at         timestamptz DEFAULT NULL,
    correlation_id text        DEFAULT NULL,
    unique_key     text        DEFAULT NULL,
    unique_while   text        DEFAULT NULL,
    unique_for     interval    DEFAULT NULL,
    parent_id      bigint      DEFAULT NULL,
    OUT id bigint, OUT duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  mode text := coalesce(unique_while, CASE WHEN unique_for IS NULL THEN 'active'
                                           ELSE 'any' END);
  held text;
BEGIN
  duplicate := false;
  IF unique_key IS NULL THEN
    IF unique_while IS NOT NULL OR unique_for IS NOT NULL THEN
      RAISE EXCEPTION 'unique_while and unique_for need a unique_key'
        USING ERRCODE = '22023';
    END IF;
    mode := NULL;
  ELSIF unique_key = '' THEN
    RAISE EXCEPTION 'unique_key must not be empty' USING ERRCODE = '22023';
  ELSIF mode NOT IN ('queued', 'active', 'any') THEN
    RAISE EXCEPTION 'unique_while must be queued, active or any, not "%"', mode
      USING ERRCODE = '22023';
  ELSIF unique_for <= interval '0' THEN
    RAISE EXCEPTION 'unique_for must be positive' USING ERRCODE = '22023';
  END IF;
  held := leasehold.unique_key_held(unique_key, unique_for);
  IF mode = 'any' THEN
    -- Take the key first, under the id the job will have: a concurrent
    -- enqueue of the same key waits for this transaction, then sees it.
    id := nextval(pg_get_serial_sequence('leasehold.jobs', 'id'));
    INSERT INTO leasehold.unique_keys AS k (unique_key, job_id)
    VALUES (held, id) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      SELECT k.job_id INTO id FROM leasehold.unique_keys AS k WHERE k.unique_key = held;
      duplicate := true;
      RETURN;
    END IF;
  END IF;
  FOR tries IN 1..5 LOOP
    INSERT INTO leasehold.jobs AS j
      (id, type, payload, queue, priority, max_attempts, run_at,
       correlation_id, parent_id, unique_key, unique_while)
    OVERRIDING SYSTEM VALUE
    VALUES (coalesce(enqueue.id, nextval(pg_get_serial_sequence('leasehold.jobs', 'id'))),
            enqueue.type, coalesce(enqueue.payload, '{}'),
            coalesce(enqueue.queue, 'default'), coalesce(enqueue.priority, 0),
            coalesce(enqueue.max_attempts, 25), coalesce(enqueue.run_at, now()),
            enqueue.correlation_id, enqueue.parent_id, held, mode)
    ON CONFLICT DO NOTHING
    RETURNING j.id INTO id;
    IF FOUND THEN
      RETURN;
    END IF;
    -- Each statement of a READ COMMITTED transaction sees what committed
    -- before it, so the holder the insert collided with is visible here,
    -- unless it ended in between: then try again.
    id := leasehold.unique_key_holder(held);
    IF id IS NOT NULL THEN
      duplicate := true;
      RETURN;
    END IF;
  END LOOP;
  RAISE EXCEPTION 'unique key "%" kept changing hands; try again', held
    USING ERRCODE = '40001';
END $$;

-- Enqueues every job of a JSON array in one call (the caller's transaction):
-- each element an object with the arguments of enqueue() as keys, payload
-- any JSON, unique_for an interval text ('1 hour'). Returns one row per
-- element, in order: its position (from 1), the id, and whether it was a
-- duplicate (of an existing job or of an earlier element).
CREATE FUNCTION leasehold.enqueue_many(jobs jsonb)
RETURNS TABLE (ord bigint, id bigint, duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  n bigint := 0;
BEGIN
  IF jsonb_typeof(jobs) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'enqueue_many takes a JSON array of job objects'
      USING ERRCODE = '22023';
  END IF;
  FOR e IN SELECT value FROM jsonb_array_elements(jobs) LOOP
    n := n + 1;
    IF jsonb_typeof(e) IS DISTINCT FROM 'object' OR NOT (e ? 'type') THEN
      RAISE EXCEPTION 'job %: expected an object with a "type"', n
        USING ERRCODE = '22023';
    END IF;
    ord := n;
    SELECT r.id, r.duplicate INTO id, duplicate
    FROM leasehold.enqueue(
      e ->> 'type', coalesce(e -> 'payload', '{}'), e ->> 'queue',
      (e ->> 'priority')::integer, (e ->> 'max_attempts')::integer,
      (e ->> 'run_at')::timestamptz, e ->> 'correlation_id',
      e ->> 'unique_key', e ->> 'unique_while',
      (e ->> 'unique_for')::interval) AS r;
    RETURN NEXT;
  END LOOP;
END $$;

-- Every job shows its unique key; a succeeded job's (in job_runs) is not
-- kept, except that an any key stays in leasehold.unique_keys.
CREATE OR REPLACE VIEW leasehold.all_jobs AS
SELECT id, type, queue, priority, payload, status, attempts, max_attempts,
       run_at, locked_by, locked_at, heartbeat_at, correlation_id, trace_id,
       parent_id, last_error, last_error_code, created_at, updated_at,
       finished_at, run_id, partition_key, unique_key, unique_while
FROM leasehold.jobs
UNION ALL
SELECT job_id, type, queue, priority, payload, 'succeeded', attempt,
       max_attempts, run_at, worker_id, started_at, NULL, correlation_id,
       trace_id, parent_id, NULL, NULL, created_at, finished_at, finished_at,
       run_id, partition_key, NULL, NULL
FROM leasehold.job_runs
WHERE outcome = 'succeeded';
