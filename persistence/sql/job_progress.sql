-- Writes the latest progress of worker $1's running attempts: $2 is a JSON
-- array of {id, attempt, value, message}. Fenced like a completion (the
-- job's lock, attempt and status, and an active instance): a stale owner's
-- report matches no row and is refused. Returns the reports written.
-- SKIP LOCKED, as in lease_renew.sql: a row another session holds locked is
-- skipped this time rather than waited for; the attempt's outcome carries
-- its last report anyway.
WITH input AS (
  SELECT *
  FROM jsonb_to_recordset($2::jsonb)
    AS p (id bigint, attempt integer, value double precision, message text)
), target AS (
  SELECT j.id, i.attempt, i.value, i.message
  FROM leasehold.jobs AS j
  JOIN input AS i ON j.id = i.id AND j.attempts = i.attempt
  WHERE j.locked_by = $1 AND j.status = 'running'
    AND leasehold.instance_active($1)
  FOR UPDATE OF j SKIP LOCKED
)
UPDATE leasehold.jobs AS j
SET progress = jsonb_build_object('attempt', t.attempt, 'value', t.value,
                                  'message', t.message, 'at', now())
FROM target AS t
WHERE j.id = t.id
RETURNING j.id, j.attempts
