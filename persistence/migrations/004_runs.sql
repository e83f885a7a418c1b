-- 004: runs, whose partitions are ordinary jobs. A run keeps no counters:
-- its counts are always derived from its partition jobs' own rows.

CREATE TABLE leasehold.runs (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type               text        NOT NULL CHECK (type <> ''),
  label              text,
  expected           integer     NOT NULL CHECK (expected >= 1),
  correlation_id     text        NOT NULL DEFAULT gen_random_uuid()::text,
  on_complete_type   text,
  on_complete_job_id bigint,
  created_at         timestamptz NOT NULL DEFAULT now(),
  completed_at       timestamptz
);
CREATE INDEX runs_created_idx ON leasehold.runs (created_at DESC);

ALTER TABLE leasehold.jobs
  ADD COLUMN run_id bigint REFERENCES leasehold.runs (id),
  ADD COLUMN partition_key text,
  ADD CONSTRAINT jobs_partition_needs_run
    CHECK ((run_id IS NULL) = (partition_key IS NULL));

-- One job per partition key and run; also how a run finds its partitions.
CREATE UNIQUE INDEX jobs_run_partition_idx ON leasehold.jobs (run_id, partition_key)
  WHERE run_id IS NOT NULL;
