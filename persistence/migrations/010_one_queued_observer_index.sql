-- 010: one observer index on queued jobs instead of two. Every enqueued row
-- went into five indexes; bulk enqueue is mostly index inserts, and the two
-- partial indexes of migration 003 cost ~25% of it (measured: 200k rows,
-- 1.68 s -> 1.25 s without both). /health reads the queued counts per type
-- and the oldest due job in one pass over this index instead.
DROP INDEX leasehold.jobs_queued_run_at_idx;
DROP INDEX leasehold.jobs_queued_type_idx;
CREATE INDEX jobs_queued_type_idx ON leasehold.jobs (type, run_at)
  WHERE status = 'queued';
