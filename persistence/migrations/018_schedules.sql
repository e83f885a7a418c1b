-- 018: periodic jobs. A schedule lives here, so every node knows it; any
-- node's scheduler takes a due one under its row lock (SKIP LOCKED), enqueues
-- its ticks and moves next_tick_at on in the same transaction, so a tick is
-- enqueued once however many nodes run. Each tick's job also holds the
-- unique key schedule:<name>@<tick> (an any key, migration 017): a tick
-- enqueued once stays enqueued once whatever happens to the row.
CREATE TABLE leasehold.schedules (
  name             text        PRIMARY KEY CHECK (name <> ''),
  cron             text        NOT NULL,
  tz               text        NOT NULL DEFAULT 'UTC',
  type             text        NOT NULL CHECK (type <> ''),
  payload          jsonb       NOT NULL DEFAULT '{}',
  queue            text        NOT NULL DEFAULT 'default' CHECK (queue <> ''),
  priority         smallint    NOT NULL DEFAULT 0,
  max_attempts     integer     NOT NULL DEFAULT 25 CHECK (max_attempts >= 1),
  -- After an outage: enqueue none of the missed ticks, only the last, or all.
  catch_up         text        NOT NULL DEFAULT 'one'
    CHECK (catch_up IN ('none', 'one', 'all')),
  paused           boolean     NOT NULL DEFAULT false,
  next_tick_at     timestamptz NOT NULL,
  last_tick_at     timestamptz,   -- the latest tick enqueued (its time)
  last_enqueued_at timestamptz,   -- when that happened
  last_job_id      bigint,
  ticks_enqueued   bigint      NOT NULL DEFAULT 0,
  ticks_skipped    bigint      NOT NULL DEFAULT 0, -- missed and not caught up
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The schedulers' poll reads only the due ones.
CREATE INDEX schedules_due_idx ON leasehold.schedules (next_tick_at)
  WHERE NOT paused;
