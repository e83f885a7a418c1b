-- Gives back jobs worker $1 claimed ahead of its handlers and never started
-- ($2 ids, $3 the attempts their claim took): a graceful stop, or a job that
-- waited in the prefetch buffer past its bound. Nothing ran, so nothing is
-- recorded: the claim is undone, the attempt it took is returned and the
-- job's trace_id is its previous attempt's again (NULL before the first).
-- Same ownership guard as every other write; a lease lost meanwhile
-- matches nothing and stays with whoever holds it now.
-- A job whose unique key is held only until it first starts (migration 017)
-- would hold it again; if another job took the key meanwhile, this one goes
-- back without it rather than collide with the holder.
UPDATE leasehold.jobs AS j
SET status = 'queued', locked_by = NULL, locked_at = NULL,
    heartbeat_at = NULL, attempts = j.attempts - 1,
    (unique_key, unique_while) =
      (SELECT CASE WHEN taken THEN NULL ELSE j.unique_key END,
              CASE WHEN taken THEN NULL ELSE j.unique_while END
       FROM (SELECT j.unique_while = 'queued' AND j.attempts = 1
                    AND leasehold.unique_key_holder(j.unique_key) IS NOT NULL
                    AS taken) AS t),
    trace_id = (SELECT r.trace_id FROM leasehold.job_runs AS r
                WHERE r.job_id = j.id AND r.attempt = j.attempts - 1),
    updated_at = now()
FROM unnest($2::bigint[], $3::integer[]) AS l (job_id, attempt)
WHERE j.id = l.job_id AND j.locked_by = $1 AND j.attempts = l.attempt
  AND j.status = 'running'
  AND leasehold.instance_active($1) -- a revoked worker writes nothing
RETURNING j.id
