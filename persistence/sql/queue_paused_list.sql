-- The queues with a state of their own: name, paused, limited (a node's
-- lease actor reads them each poll tick and on NOTIFY leasehold_control).
SELECT name, paused, concurrency IS NOT NULL FROM leasehold.queues
WHERE paused OR concurrency IS NOT NULL ORDER BY name
