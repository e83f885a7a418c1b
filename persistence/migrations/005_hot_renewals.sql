-- 005: let lease renewals be HOT updates. A renewal changes only
-- heartbeat_at; while that column was indexed, every renewal also wrote the
-- index. Running jobs are few (at most the fleet's total concurrency), so
-- finding expired ones through an index on a column renewals never touch,
-- then filtering on heartbeat_at, costs little. Free space on each page
-- (fillfactor) lets the new row version stay on the same page.
DROP INDEX leasehold.jobs_running_heartbeat_idx;
CREATE INDEX jobs_running_idx ON leasehold.jobs (locked_by) WHERE status = 'running';
ALTER TABLE leasehold.jobs SET (fillfactor = 80);
