-- 026: a unique key held for a window (unique_for, migration 017) records
-- when its window ends. Past that, no enqueue can name it again (the key
-- held is the key plus the window's start, by the database's clock), so
-- retention deletes it; until then the job it names is not pruned
-- (migration 025). Before this, every windowed key stayed forever, and with
-- it the job it named. A key without a window is held for good, as
-- unique_while any promises, and keeps its job. Keys taken before this
-- migration have no recorded end and stay.
ALTER TABLE leasehold.unique_keys ADD COLUMN window_ends_at timestamptz;
CREATE INDEX unique_keys_window_ends_idx ON leasehold.unique_keys (window_ends_at)
  WHERE window_ends_at IS NOT NULL;

-- The end of the current window of length unique_for (NULL: no window),
-- windows counted from the Unix epoch as unique_key_held() counts them.
CREATE FUNCTION leasehold.unique_window_end(unique_for interval)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT to_timestamp((floor(extract(epoch FROM now()) / extract(epoch FROM unique_for)) + 1)
                      * extract(epoch FROM unique_for))
$$;

-- enqueue() as migration 023 made it, recording the window's end with the
-- key (Postgres replaces a function only whole).
CREATE OR REPLACE FUNCTION leasehold.enqueue(
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
    INSERT INTO leasehold.unique_keys AS k (unique_key, job_id, window_ends_at)
    VALUES (held, id, leasehold.unique_window_end(unique_for)) ON CONFLICT DO NOTHING;
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
