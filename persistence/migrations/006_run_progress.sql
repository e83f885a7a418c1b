-- 006: the one definition of a run's progress. Counts come from the
-- partitions' own rows at query time (no stored counter can drift), and
-- every reader (run show, GET /runs, the dashboard) goes through this view.
CREATE VIEW leasehold.run_progress AS
SELECT r.id, c.queued, c.running, c.succeeded, c.failed, c.cancelled,
       CASE WHEN c.queued + c.running > 0 THEN 'running'
            WHEN c.succeeded = r.expected THEN 'completed'
            WHEN c.succeeded = 0 THEN 'failed'
            ELSE 'partial' END AS status
FROM leasehold.runs AS r
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
         count(*) FILTER (WHERE status = 'running') AS running,
         count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE status = 'cancelled') AS cancelled
  FROM leasehold.jobs WHERE run_id = r.id) AS c;
