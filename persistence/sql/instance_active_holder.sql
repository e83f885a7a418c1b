-- The active instance of a singleton type, to name it when we lose the race.
SELECT worker_id, hostname, pid
FROM leasehold.worker_instances
WHERE worker_type = $1 AND singleton AND status IN ('STARTING', 'RUNNING')
LIMIT 1
