-- 001: jobs, their attempts, trace-policy violations and the wakeup trigger.

CREATE TABLE leasehold.jobs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type            text        NOT NULL CHECK (type <> ''),
  queue           text        NOT NULL DEFAULT 'default' CHECK (queue <> ''),
  priority        smallint    NOT NULL DEFAULT 0,
  payload         jsonb       NOT NULL DEFAULT '{}',
  status          text        NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts    integer     NOT NULL DEFAULT 25 CHECK (max_attempts >= 1),
  run_at          timestamptz NOT NULL DEFAULT now(),
  locked_by       text,
  locked_at       timestamptz,
  heartbeat_at    timestamptz,
  correlation_id  text        NOT NULL DEFAULT gen_random_uuid()::text,
  trace_id        text,
  parent_id       bigint,
  last_error      text,
  last_error_code text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);

-- The claim walks this index in order and stops after LIMIT rows, so its
-- cost does not grow with the number of queued jobs.
CREATE INDEX jobs_claim_idx ON leasehold.jobs (queue, priority, run_at, id)
  WHERE status = 'queued';
-- Finding expired leases (stuck jobs) touches only running rows.
CREATE INDEX jobs_running_heartbeat_idx ON leasehold.jobs (heartbeat_at)
  WHERE status = 'running';
CREATE INDEX jobs_correlation_idx ON leasehold.jobs (correlation_id, id);
-- "Dead" is derived: failed jobs, newest first.
CREATE INDEX jobs_failed_idx ON leasehold.jobs (finished_at)
  WHERE status = 'failed';

-- One row per attempt. outcome stays NULL while the attempt runs.
CREATE TABLE leasehold.job_runs (
  job_id      bigint      NOT NULL REFERENCES leasehold.jobs (id) ON DELETE CASCADE,
  attempt     integer     NOT NULL,
  worker_id   text        NOT NULL,
  trace_id    text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  outcome     text CHECK (outcome IN ('succeeded', 'failed', 'ownership_lost',
                                      'stopping_timeout', 'expired')),
  error       text,
  PRIMARY KEY (job_id, attempt)
);

CREATE TABLE leasehold.policy_violations (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id     bigint      NOT NULL,
  attempt    integer     NOT NULL,
  worker_id  text        NOT NULL,
  policy     text        NOT NULL,
  detail     text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX policy_violations_created_idx
  ON leasehold.policy_violations (created_at);

-- Wake idle nodes once per inserting statement and queue, not once per row.
CREATE FUNCTION leasehold.notify_new_jobs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('leasehold_jobs', q.queue)
  FROM (SELECT DISTINCT queue FROM inserted WHERE run_at <= now()) AS q;
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_notify_insert AFTER INSERT ON leasehold.jobs
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION leasehold.notify_new_jobs();
