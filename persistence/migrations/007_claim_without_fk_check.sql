-- 007: the claim inserts one job_runs row per attempt, and the foreign key
-- to jobs made Postgres probe jobs and take a KEY SHARE lock for every one of
-- them: about 40% of the claim's time for a batch of 500. Those rows are
-- only ever written by leasehold's own statements, from job rows they hold
-- locked, and leasehold never deletes jobs; so the check protects nothing.
-- If you purge old jobs, purge their job_runs rows in the same transaction.
ALTER TABLE leasehold.job_runs DROP CONSTRAINT job_runs_job_id_fkey;
