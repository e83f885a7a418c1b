-- 023: concurrency keys. A job enqueued with a concurrency key runs at most
-- `per_key` at a time per distinct key of its queue (queues.per_key, 1
-- without a setting): one at a time per customer, per tenant, whatever
-- number of nodes claims. Enforced where jobs are claimed: a claim that meets
-- a keyed job takes the key's advisory lock (a try: a key another claim is
-- deciding on is skipped, so claims never wait for each other and cannot
-- deadlock), then counts the key's held jobs with a fresh snapshot, as the
-- queue limit of 022 does. The lock is held to the claim's commit, so the
-- next claim of that key counts what this one took.
ALTER TABLE leasehold.jobs ADD COLUMN concurrency_key text;
-- Kept with a succeeded job (migration 011), for leasehold verify.
ALTER TABLE leasehold.job_runs ADD COLUMN concurrency_key text;
ALTER TABLE leasehold.queues
  ADD COLUMN per_key integer CHECK (per_key IS NULL OR per_key > 0);

-- Held jobs per key: what a claim counts.
CREATE INDEX jobs_keyed_running_idx ON leasehold.jobs (queue, concurrency_key)
  WHERE status = 'running' AND concurrency_key IS NOT NULL;
-- Whether a queue has keyed jobs waiting: a claim of a queue without any
-- takes the plain path of job_claim.sql, unchanged.
CREATE INDEX jobs_keyed_queued_idx ON leasehold.jobs (queue)
  WHERE status = 'queued' AND concurrency_key IS NOT NULL;

-- The ids a claim of a queue with keyed jobs takes: up to `wanted` due jobs
-- of `types`, in claim order, leaving out each key's jobs beyond what its
-- limit leaves. Rows are locked one at a time (SKIP LOCKED) as they are
-- chosen, so a job of a full key is left for others to see, not locked.
-- The walk stops after `walk` rows: a key's backlog deeper than that keeps
-- later keys waiting until it shrinks (README, "Concurrency keys").
CREATE FUNCTION leasehold.pick_keyed(worker text, queue text, wanted integer,
                                     types text[], walk integer DEFAULT 10000)
RETURNS bigint[] LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  picked bigint[] := '{}';
  per_key integer;
  taken jsonb := '{}'; -- key -> jobs held (counted, plus taken here); -1: full
  r record;
  n integer;
BEGIN
  IF wanted <= 0 OR NOT leasehold.instance_active(worker) THEN
    RETURN picked;
  END IF;
  SELECT coalesce(q.per_key, 1) INTO per_key FROM leasehold.queues AS q
  WHERE q.name = pick_keyed.queue;
  per_key := coalesce(per_key, 1);
  FOR r IN
    SELECT j.id, j.concurrency_key AS k FROM leasehold.jobs AS j
    WHERE j.status = 'queued' AND j.queue = pick_keyed.queue
      AND j.run_at <= now() AND j.type = ANY (types)
    ORDER BY j.priority, j.run_at, j.id
    LIMIT walk
  LOOP
    IF r.k IS NOT NULL THEN
      n := (taken ->> r.k)::integer;
      IF n IS NULL THEN
        IF pg_try_advisory_xact_lock(27753, hashtext(queue || E'\x1f' || r.k)) THEN
          -- A statement of its own: a snapshot taken after the lock.
          SELECT count(*) INTO n FROM leasehold.jobs AS h
          WHERE h.status = 'running' AND h.queue = pick_keyed.queue
            AND h.concurrency_key = r.k;
        ELSE
          n := -1; -- another claim is deciding on this key: next time
        END IF;
        IF n >= per_key THEN
          n := -1;
        END IF;
        taken := jsonb_set(taken, ARRAY[r.k], to_jsonb(n));
      END IF;
      CONTINUE WHEN n < 0;
    END IF;
    PERFORM 1 FROM leasehold.jobs AS j
    WHERE j.id = r.id AND j.status = 'queued' FOR UPDATE SKIP LOCKED;
    CONTINUE WHEN NOT FOUND;
    picked := picked || r.id;
    IF r.k IS NOT NULL THEN
      n := n + 1;
      taken := jsonb_set(taken, ARRAY[r.k], to_jsonb(CASE WHEN n >= per_key THEN -1 ELSE n END));
    END IF;
    EXIT WHEN cardinality(picked) >= wanted;
  END LOOP;
  RETURN picked;
END $$;

-- A queue's limits in one call: `limits` holds the ones to change, a JSON
-- null removing one: {"concurrency": 3}, {"per_key": 2}. Takes the queue's
-- lock like a pause (claims under way finish first); returns its row.
CREATE FUNCTION leasehold.set_queue_limits(queue text, limits jsonb)
RETURNS leasehold.queues LANGUAGE plpgsql AS $$
DECLARE
  result leasehold.queues;
BEGIN
  IF jsonb_typeof(limits) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION 'limits must be a JSON object' USING ERRCODE = '22023';
  END IF;
  PERFORM pg_advisory_xact_lock(27752, leasehold.queue_lock_key(queue));
  INSERT INTO leasehold.queues AS q (name) VALUES (queue)
  ON CONFLICT (name) DO NOTHING;
  UPDATE leasehold.queues AS q SET
    concurrency = CASE WHEN limits ? 'concurrency'
                       THEN (limits ->> 'concurrency')::integer ELSE q.concurrency END,
    per_key = CASE WHEN limits ? 'per_key'
                   THEN (limits ->> 'per_key')::integer ELSE q.per_key END,
    updated_at = now()
  WHERE q.name = queue
  RETURNING * INTO result;
  PERFORM pg_notify('leasehold_control', queue);
  PERFORM pg_notify('leasehold_jobs', queue);
  RETURN result;
END $$;

CREATE OR REPLACE FUNCTION leasehold.set_queue_concurrency(queue text, lim integer)
RETURNS leasehold.queues LANGUAGE sql AS $$
  SELECT * FROM leasehold.set_queue_limits(queue, jsonb_build_object('concurrency', lim))
$$;

-- enqueue() and enqueue_many() take a concurrency_key (017's, plus the key).
DROP FUNCTION leasehold.enqueue_many(jsonb);
DROP FUNCTION leasehold.enqueue(text, jsonb, text, integer, integer, timestamptz,
                                text, text, text, interval, bigint);
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
    concurrency_key text       DEFAULT NULL,
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
  IF concurrency_key = '' THEN
    RAISE EXCEPTION 'concurrency_key must not be empty' USING ERRCODE = '22023';
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
       correlation_id, parent_id, unique_key, unique_while, concurrency_key)
    OVERRIDING SYSTEM VALUE
    VALUES (coalesce(enqueue.id, nextval(pg_get_serial_sequence('leasehold.jobs', 'id'))),
            enqueue.type, coalesce(enqueue.payload, '{}'),
            coalesce(enqueue.queue, 'default'), coalesce(enqueue.priority, 0),
            coalesce(enqueue.max_attempts, 25), coalesce(enqueue.run_at, now()),
            enqueue.correlation_id, enqueue.parent_id, held, mode,
            enqueue.concurrency_key)
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
      (e ->> 'unique_for')::interval, NULL, e ->> 'concurrency_key') AS r;
    RETURN NEXT;
  END LOOP;
END $$;

-- Every job shows its concurrency key.
CREATE OR REPLACE VIEW leasehold.all_jobs AS
SELECT id, type, queue, priority, payload, status, attempts, max_attempts,
       run_at, locked_by, locked_at, heartbeat_at, correlation_id, trace_id,
       parent_id, last_error, last_error_code, created_at, updated_at,
       finished_at, run_id, partition_key, unique_key, unique_while, progress,
       concurrency_key
FROM leasehold.jobs
UNION ALL
SELECT job_id, type, queue, priority, payload, 'succeeded', attempt,
       max_attempts, run_at, worker_id, started_at, NULL, correlation_id,
       trace_id, parent_id, NULL, NULL, created_at, finished_at, finished_at,
       run_id, partition_key, NULL, NULL, progress, concurrency_key
FROM leasehold.job_runs
WHERE outcome = 'succeeded';
