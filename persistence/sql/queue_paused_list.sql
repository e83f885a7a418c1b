-- The queues with a state of their own: name, paused, limited (a
-- concurrency, per-key or rate limit: nodes claim for idle handlers only and
-- look again soon). A node's lease actor reads them each poll tick and on
-- NOTIFY leasehold_control.
SELECT name, paused,
       concurrency IS NOT NULL OR per_key IS NOT NULL OR rate IS NOT NULL
FROM leasehold.queues
WHERE paused OR concurrency IS NOT NULL OR per_key IS NOT NULL OR rate IS NOT NULL
ORDER BY name
