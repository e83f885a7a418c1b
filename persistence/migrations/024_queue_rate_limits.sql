-- 024: a queue's rate limit: at most `rate` jobs started per `rate_period`
-- across every node, with bursts of up to `burst`. A token bucket kept in
-- the queue's row: `tokens` as of `tokens_at`, refilled at rate/rate_period
-- up to burst. Claims of a rate-limited queue take the queue's lock
-- exclusively (as a concurrency-limited one, 022), refill, take at most the
-- whole tokens, and pay for what they claimed before they commit: in any
-- span of time T, claims start at most burst + rate * T / rate_period jobs.
ALTER TABLE leasehold.queues
  ADD COLUMN rate integer CHECK (rate IS NULL OR rate > 0),
  ADD COLUMN rate_period interval CHECK (rate_period IS NULL OR rate_period > interval '0'),
  ADD COLUMN burst integer CHECK (burst IS NULL OR burst > 0),
  ADD COLUMN tokens double precision,
  ADD COLUMN tokens_at timestamptz,
  -- What operators see (GET /queues, /health, /metrics): jobs started under
  -- the rate, in all and per window of 10 s or more (the last whole
  -- window's rate), and since when a concurrency limit, not the nodes'
  -- handlers, holds the queue's jobs back.
  ADD COLUMN rate_started bigint NOT NULL DEFAULT 0,
  ADD COLUMN rate_window_at timestamptz,
  ADD COLUMN rate_window_started bigint NOT NULL DEFAULT 0,
  ADD COLUMN rate_last_per_second double precision,
  ADD COLUMN at_limit_since timestamptz,
  ADD CONSTRAINT queues_rate_whole
    CHECK ((rate IS NULL) = (rate_period IS NULL) AND (rate IS NULL) = (burst IS NULL));

-- The tokens a rate-limited queue has at `at`: what was left, plus the
-- refill since, at most the burst (a full bucket for a new limit).
CREATE FUNCTION leasehold.rate_tokens(q leasehold.queues, at timestamptz)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  SELECT least(q.burst::double precision,
               coalesce(q.tokens + q.rate * extract(epoch FROM at - q.tokens_at)
                                   / extract(epoch FROM q.rate_period),
                        q.burst))
$$;

-- 022's, with the rate limit: the claim refills the bucket and may take its
-- whole tokens; rate_paid() charges what it took.
CREATE OR REPLACE FUNCTION leasehold.claim_slots(queue text, wanted integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  limited boolean;
  q leasehold.queues;
  held bigint;
  allowed bigint := wanted;
  clock timestamptz;
BEGIN
  limited := EXISTS (SELECT 1 FROM leasehold.queues AS l
                     WHERE l.name = queue
                       AND (l.concurrency IS NOT NULL OR l.rate IS NOT NULL));
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
  IF q.concurrency IS NULL AND q.rate IS NULL THEN
    RETURN wanted;
  END IF;
  IF NOT limited THEN
    RETURN 0; -- limited while we waited under the shared lock: next time
  END IF;
  IF q.concurrency IS NOT NULL THEN
    SELECT count(*) INTO held FROM leasehold.jobs AS j
    WHERE j.status = 'running' AND j.queue = claim_slots.queue;
    allowed := least(allowed, q.concurrency - held);
    -- Written when it changes only: at the limit since, or not at it.
    IF (held >= q.concurrency) <> (q.at_limit_since IS NOT NULL) THEN
      UPDATE leasehold.queues AS l
      SET at_limit_since = CASE WHEN held >= q.concurrency THEN clock_timestamp() END
      WHERE l.name = queue;
    END IF;
  END IF;
  IF q.rate IS NOT NULL THEN
    clock := clock_timestamp();
    UPDATE leasehold.queues AS l
    SET tokens = leasehold.rate_tokens(l, clock), tokens_at = clock
    WHERE l.name = queue
    RETURNING * INTO q;
    allowed := least(allowed, floor(q.tokens)::bigint);
  END IF;
  RETURN greatest(0, allowed);
END $$;

-- Charges a claim of `queue` that took `taken` jobs to its bucket (nothing
-- for a queue without a rate limit). Called by the claim, in its
-- transaction, still under the queue's lock.
CREATE FUNCTION leasehold.rate_paid(queue text, taken bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  clock timestamptz := clock_timestamp();
BEGIN
  IF taken > 0 THEN
    UPDATE leasehold.queues AS l SET
      tokens = l.tokens - taken,
      rate_started = l.rate_started + taken,
      rate_last_per_second = CASE WHEN clock - l.rate_window_at >= interval '10 s'
        THEN l.rate_window_started / extract(epoch FROM clock - l.rate_window_at)
        ELSE l.rate_last_per_second END,
      rate_window_started = CASE WHEN clock - l.rate_window_at < interval '10 s'
        THEN l.rate_window_started + taken ELSE taken END,
      rate_window_at = CASE WHEN clock - l.rate_window_at < interval '10 s'
        THEN l.rate_window_at ELSE clock END
    WHERE l.name = queue AND l.rate IS NOT NULL;
  END IF;
  RETURN taken;
END $$;

-- A rate-limited queue's jobs started per second lately: the last whole
-- window's rate, or, once the window has run 10 s without a claim closing
-- it, the open window's (which falls while nothing starts).
CREATE FUNCTION leasehold.rate_now(q leasehold.queues, at timestamptz)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN q.rate IS NULL OR q.rate_window_at IS NULL THEN NULL
    WHEN at - q.rate_window_at >= interval '10 s' OR q.rate_last_per_second IS NULL
      THEN q.rate_window_started / greatest(extract(epoch FROM at - q.rate_window_at), 1)
    ELSE q.rate_last_per_second END
$$;

-- set_queue_limits (023) learns the rate: {"rate": {"jobs": 10, "period":
-- "1 second", "burst": 5}} sets it (burst optional: a tenth of a second's
-- jobs, at least 1), {"rate": null} removes it. A new or changed rate
-- starts with a full bucket.
CREATE OR REPLACE FUNCTION leasehold.set_queue_limits(queue text, limits jsonb)
RETURNS leasehold.queues LANGUAGE plpgsql AS $$
DECLARE
  result leasehold.queues;
  r jsonb := limits -> 'rate';
  new_rate integer;
  new_period interval;
  new_burst integer;
BEGIN
  IF jsonb_typeof(limits) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION 'limits must be a JSON object' USING ERRCODE = '22023';
  END IF;
  IF limits ? 'rate' AND jsonb_typeof(r) <> 'null' THEN
    new_rate := (r ->> 'jobs')::integer;
    new_period := (r ->> 'period')::interval;
    IF new_rate IS NULL OR new_rate <= 0 OR new_period IS NULL OR new_period <= interval '0' THEN
      RAISE EXCEPTION 'a rate needs a positive number of jobs and period'
        USING ERRCODE = '22023';
    END IF;
    new_burst := coalesce((r ->> 'burst')::integer,
                          greatest(1, ceil(new_rate * 0.1 / extract(epoch FROM new_period)))::integer);
  END IF;
  PERFORM pg_advisory_xact_lock(27752, leasehold.queue_lock_key(queue));
  INSERT INTO leasehold.queues AS q (name) VALUES (queue)
  ON CONFLICT (name) DO NOTHING;
  UPDATE leasehold.queues AS q SET
    concurrency = CASE WHEN limits ? 'concurrency'
                       THEN (limits ->> 'concurrency')::integer ELSE q.concurrency END,
    per_key = CASE WHEN limits ? 'per_key'
                   THEN (limits ->> 'per_key')::integer ELSE q.per_key END,
    rate = CASE WHEN limits ? 'rate' THEN new_rate ELSE q.rate END,
    rate_period = CASE WHEN limits ? 'rate' THEN new_period ELSE q.rate_period END,
    burst = CASE WHEN limits ? 'rate' THEN new_burst ELSE q.burst END,
    tokens = CASE WHEN limits ? 'rate' THEN NULL ELSE q.tokens END,
    tokens_at = CASE WHEN limits ? 'rate' THEN NULL ELSE q.tokens_at END,
    at_limit_since = CASE WHEN limits ? 'concurrency' THEN NULL ELSE q.at_limit_since END,
    updated_at = now()
  WHERE q.name = queue
  RETURNING * INTO result;
  PERFORM pg_notify('leasehold_control', queue);
  PERFORM pg_notify('leasehold_jobs', queue);
  RETURN result;
END $$;

-- Each queue as operators see it (GET /queues, `leasehold queue list`,
-- /metrics, /health): every queue with jobs waiting or held, or a row of
-- its own. Read from the hot jobs table only: succeeded jobs have left it
-- (migration 011).
CREATE VIEW leasehold.queue_overview AS
WITH counts AS (
  SELECT queue,
         count(*) FILTER (WHERE status = 'queued' AND run_at <= now()) AS due,
         count(*) FILTER (WHERE status = 'queued' AND run_at > now()) AS scheduled,
         count(*) FILTER (WHERE status = 'running') AS running,
         min(run_at) FILTER (WHERE status = 'queued' AND run_at <= now()) AS oldest_due
  FROM leasehold.jobs WHERE status IN ('queued', 'running')
  GROUP BY queue
)
SELECT coalesce(c.queue, q.name) AS queue,
       coalesce(q.paused, false) AS paused, q.paused_at,
       q.concurrency, q.per_key, q.rate, extract(epoch FROM q.rate_period) AS rate_period_seconds,
       q.burst,
       CASE WHEN q.rate IS NOT NULL
            THEN floor(leasehold.rate_tokens(q, clock_timestamp()))::bigint END AS tokens,
       round(leasehold.rate_now(q, clock_timestamp())::numeric, 2) AS started_per_second,
       q.rate_started,
       coalesce(c.due, 0) AS due, coalesce(c.scheduled, 0) AS scheduled,
       coalesce(c.running, 0) AS running,
       coalesce(round(extract(epoch FROM now() - c.oldest_due)::numeric, 3), 0) AS lag_seconds,
       CASE WHEN q.concurrency IS NOT NULL AND coalesce(c.running, 0) >= q.concurrency
            THEN round(extract(epoch FROM now() - coalesce(q.at_limit_since, now()))::numeric, 1)
       END AS at_limit_seconds
FROM counts AS c FULL JOIN leasehold.queues AS q ON q.name = c.queue;
