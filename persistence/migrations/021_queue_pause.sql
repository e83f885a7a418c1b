-- 021: queues an operator can pause. A queue's row exists once anyone paused
-- or resumed it; a queue without a row runs. Pausing is enforced where jobs
-- are claimed, and linearized with claims: every claim takes a shared
-- advisory lock on its queue and then reads the queue's state with a fresh
-- snapshot (claim_allowed, a volatile function); a pause takes the same lock
-- exclusively, so it waits for the claims already past their check, and
-- every claim after it sees the pause. Once pause_queue() has committed, no
-- claim of that queue commits. Nodes hear of it through NOTIFY on
-- leasehold_control (or their next poll) and give back the jobs of that
-- queue they claimed ahead, without using up attempts.
CREATE TABLE leasehold.queues (
  name       text PRIMARY KEY,
  paused     boolean NOT NULL DEFAULT false,
  paused_at  timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The advisory lock of a queue: class 0x6c68 ("lh"), object its name's hash
-- (two names sharing a hash only wait for each other, never wrongly pass).
CREATE FUNCTION leasehold.queue_lock_key(queue text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT hashtext(queue) $$;

CREATE FUNCTION leasehold.claim_allowed(queue text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(27752, leasehold.queue_lock_key(queue));
  -- A new snapshot (volatile): a pause committed while we waited is seen.
  RETURN NOT EXISTS (SELECT 1 FROM leasehold.queues AS q
                     WHERE q.name = queue AND q.paused);
END $$;

-- Pauses or resumes a queue; returns its row. Callable from SQL too.
CREATE FUNCTION leasehold.set_queue_paused(queue text, pause boolean)
RETURNS leasehold.queues LANGUAGE plpgsql AS $$
DECLARE
  result leasehold.queues;
BEGIN
  PERFORM pg_advisory_xact_lock(27752, leasehold.queue_lock_key(queue));
  INSERT INTO leasehold.queues AS q (name, paused, paused_at)
  VALUES (queue, pause, CASE WHEN pause THEN now() END)
  ON CONFLICT (name) DO UPDATE
    SET paused = pause,
        paused_at = CASE WHEN NOT pause THEN NULL
                         WHEN q.paused THEN q.paused_at ELSE now() END,
        updated_at = now()
  RETURNING * INTO result;
  PERFORM pg_notify('leasehold_control', queue);
  IF NOT pause THEN
    PERFORM pg_notify('leasehold_jobs', queue); -- idle nodes claim at once
  END IF;
  RETURN result;
END $$;
