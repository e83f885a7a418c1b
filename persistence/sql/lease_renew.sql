-- Renews every lease worker $1 holds, in one statement: $2 job ids, $3 the
-- attempts. Returns the leases that are still ours, renewed or not; the
-- caller treats every lease (id and attempt) missing from the result as
-- lost, so a node holding a stale attempt and a new attempt of the same job
-- loses only the stale one. A revoked instance (STOPPED) holds nothing.
-- SKIP LOCKED: a row another session holds locked (an operator's open
-- transaction) is not renewed this time, but neither waited for nor lost;
-- reapers leave a live owner's jobs alone (job_rescue.sql), and renewals
-- never wait on a row lock, so they cannot deadlock with completions.
WITH held AS (
  SELECT j.id, j.attempts
  FROM leasehold.jobs AS j
  JOIN unnest($2::bigint[], $3::integer[]) AS l (job_id, attempt)
    ON j.id = l.job_id AND j.attempts = l.attempt
  WHERE j.locked_by = $1 AND j.status = 'running'
    AND leasehold.instance_active($1)
), renewable AS (
  SELECT j.id
  FROM leasehold.jobs AS j
  JOIN unnest($2::bigint[], $3::integer[]) AS l (job_id, attempt)
    ON j.id = l.job_id AND j.attempts = l.attempt
  WHERE j.locked_by = $1 AND j.status = 'running'
    AND leasehold.instance_active($1)
  FOR UPDATE OF j SKIP LOCKED
), renewed AS (
  UPDATE leasehold.jobs AS j
  SET heartbeat_at = now()
  WHERE j.id = ANY (ARRAY(SELECT id FROM renewable))
)
SELECT id, attempts FROM held
