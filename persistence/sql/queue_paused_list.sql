-- The names of the paused queues (a node's lease actor reads them each poll
-- tick and on NOTIFY leasehold_control).
SELECT name FROM leasehold.queues WHERE paused ORDER BY name
