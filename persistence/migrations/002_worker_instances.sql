-- 002: the registry of node processes (worker instances).

CREATE TABLE leasehold.worker_instances (
  worker_id         text        PRIMARY KEY,
  worker_type       text        NOT NULL CHECK (worker_type <> ''),
  singleton         boolean     NOT NULL DEFAULT false,
  status            text        NOT NULL
    CHECK (status IN ('STARTING', 'RUNNING', 'STOPPING', 'STOPPED')),
  hostname          text        NOT NULL,
  pid               integer     NOT NULL,
  version           text        NOT NULL,
  metadata          jsonb       NOT NULL DEFAULT '{}',
  endpoint          text,
  started_at        timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopping_at       timestamptz,
  stopped_at        timestamptz
);

-- The database, not the application, guarantees at most one active
-- instance of a singleton type; a STOPPING instance frees the slot.
CREATE UNIQUE INDEX worker_instances_one_active_singleton
  ON leasehold.worker_instances (worker_type)
  WHERE singleton AND status IN ('STARTING', 'RUNNING');

CREATE INDEX worker_instances_live_idx
  ON leasehold.worker_instances (status, last_heartbeat_at)
  WHERE status <> 'STOPPED';
