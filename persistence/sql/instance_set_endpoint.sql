-- Records where this instance's cluster face listens ($2, "host:port", or
-- NULL when its links are off), on its own row while it is not STOPPED:
-- peers read it to link to the node (issue 21).
UPDATE leasehold.worker_instances
SET endpoint = $2
WHERE worker_id = $1 AND status <> 'STOPPED'
RETURNING worker_id
