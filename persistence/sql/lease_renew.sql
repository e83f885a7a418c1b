-- Renews every lease worker $1 holds, in one statement: $2 job ids, $3 the
-- attempts. The guard (locked_by, attempts, running) means a lease that was
-- taken away is NOT renewed; the caller treats every lease (id and attempt)
-- missing from the result as lost, so a node holding a stale attempt and a
-- new attempt of the same job loses only the stale one.
UPDATE leasehold.jobs AS j
SET heartbeat_at = now()
FROM unnest($2::bigint[], $3::integer[]) AS l (job_id, attempt)
WHERE j.id = l.job_id AND j.locked_by = $1 AND j.attempts = l.attempt
  AND j.status = 'running'
RETURNING j.id, j.attempts
