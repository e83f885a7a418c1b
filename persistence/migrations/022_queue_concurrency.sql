-- 022: a queue's cluster-wide concurrency limit: at most `concurrency` of its
-- jobs held by nodes at once (running, or claimed ahead of a handler), across
-- every node. Enforced where jobs are claimed: a claim of a limited queue
-- takes the queue's advisory lock exclusively (claims of other queues take
-- it shared, migration 021), then counts the queue's held jobs with a fresh
-- snapshot and claims at most the difference. Claims of one limited queue
-- thus follow each other; no interleaving of claims on many nodes can hold
-- more than the limit. A job that ends frees its place at once: the next
-- claim counts without it.
ALTER TABLE leasehold.queues
  ADD COLUMN concurrency integer CHECK (concurrency IS NULL OR concurrency > 0);

-- Held jobs per queue, counted through the running index: it holds only the
-- fleet's held jobs (slots and buffers), whatever the backlog.
DROP INDEX leasehold.jobs_running_idx;
CREATE INDEX jobs_running_idx ON leasehold.jobs (locked_by) INCLUDE (queue)
  WHERE status = 'running';

-- How many jobs of `queue` a claim wanting `wanted` may take now: 0 while
-- it is paused, `wanted` without a limit, else what the limit leaves.
CREATE FUNCTION leasehold.claim_slots(queue text, wanted integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  limited boolean;
  q leasehold.queues;
  held bigint;
BEGIN
  limited := EXISTS (SELECT 1 FROM leasehold.queues AS l
                     WHERE l.name = queue AND l.concurrency IS NOT NULL);
  IF limited THEN
    PERFORM pg_advisory_xact_lock(27752, leasehold.queue_lock_key(queue));
  ELSE
    PERFORM pg_advisory_xact_lock_shared(27752, leasehold.queue_lock_key(queue));
  END IF;
  -- A new snapshot (volatile): what was committed while we waited.
  SELECT * INTO q FROM leasehold.queues AS l WHERE l.name = queue;
  IF q.paused THEN
    RETURN 0;
  END IF;
  IF q.concurrency IS NULL THEN
    RETURN wanted;
  END IF;
  IF NOT limited THEN
    RETURN 0; -- limited while we waited under the shared lock: next time
  END IF;
  SELECT count(*) INTO held FROM leasehold.jobs AS j
  WHERE j.status = 'running' AND j.queue = claim_slots.queue;
  RETURN greatest(0, least(wanted, q.concurrency - held));
END $$;

-- Sets (a number) or removes (NULL) a queue's concurrency limit; returns its
-- row. Takes the queue's lock like a pause: claims under way finish first.
CREATE FUNCTION leasehold.set_queue_concurrency(queue text, lim integer)
RETURNS leasehold.queues LANGUAGE plpgsql AS $$
DECLARE
  result leasehold.queues;
BEGIN
  PERFORM pg_advisory_xact_lock(27752, leasehold.queue_lock_key(queue));
  INSERT INTO leasehold.queues AS q (name, concurrency)
  VALUES (queue, lim)
  ON CONFLICT (name) DO UPDATE SET concurrency = lim, updated_at = now()
  RETURNING * INTO result;
  PERFORM pg_notify('leasehold_control', queue);
  PERFORM pg_notify('leasehold_jobs', queue);
  RETURN result;
END $$;

-- claim_slots replaces it in the claim.
DROP FUNCTION leasehold.claim_allowed(text);
