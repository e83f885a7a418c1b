-- 003: indexes that keep the observer's health figures cheap at any table
-- size: each figure reads only the rows it is about.

-- Age of the oldest due queued job, across queues (estimated lag).
CREATE INDEX jobs_queued_run_at_idx ON leasehold.jobs (run_at)
  WHERE status = 'queued';
-- Queued counts by type.
CREATE INDEX jobs_queued_type_idx ON leasehold.jobs (type)
  WHERE status = 'queued';
