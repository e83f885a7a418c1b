-- leasehold verify, the attempts of each job (see persistence/verify.hpp).
-- One pass over job_runs, grouped by job, serves three checks: at most one
-- success, nothing after it, and once a job is terminal one run row per
-- attempt, numbered 1..attempts without gaps. $1 limits it to jobs with an
-- attempt that finished at or after that time (all their attempts are read).
WITH p AS (
  SELECT $1::timestamptz AS since, $2::bigint AS grace_ms,
         $3::timestamptz AS trace_cutoff, $4::bigint AS default_ttl_ms
), per_job AS MATERIALIZED (
  SELECT r.job_id, count(*) AS runs, min(r.attempt) AS first_attempt,
         max(r.attempt) AS last_attempt,
         count(*) FILTER (WHERE r.outcome = 'succeeded') AS successes,
         max(r.attempt) FILTER (WHERE r.outcome = 'succeeded') AS success_attempt,
         jsonb_agg(jsonb_build_object('attempt', r.attempt, 'worker_id', r.worker_id,
                                      'finished_at', r.finished_at))
           FILTER (WHERE r.outcome = 'succeeded') AS successes_by
  FROM leasehold.job_runs AS r
  WHERE $1::timestamptz = '-infinity'
     OR r.job_id IN (SELECT job_id FROM leasehold.job_runs WHERE finished_at >= $1)
  GROUP BY r.job_id
)
SELECT 'one_success_per_job', jsonb_build_object(
         'job_id', job_id, 'successes', successes_by)
FROM per_job WHERE successes > 1
UNION ALL
SELECT 'nothing_after_success', jsonb_build_object(
         'job_id', pj.job_id, 'success_attempt', pj.success_attempt,
         'last_attempt', pj.last_attempt, 'job_row_status', j.status)
FROM per_job AS pj LEFT JOIN leasehold.jobs AS j ON j.id = pj.job_id
WHERE pj.successes > 0 AND (pj.last_attempt > pj.success_attempt OR j.id IS NOT NULL)
UNION ALL
-- A succeeded job lives on in its success's run row only (migration 011).
SELECT 'attempts_match_runs', jsonb_build_object(
         'job_id', job_id, 'status', 'succeeded', 'attempts', success_attempt,
         'run_rows', runs, 'first_attempt', first_attempt, 'last_attempt', last_attempt)
FROM per_job
WHERE successes = 1
  AND (runs <> success_attempt OR first_attempt <> 1 OR last_attempt <> success_attempt)
UNION ALL
SELECT 'attempts_match_runs', jsonb_build_object(
         'job_id', j.id, 'status', j.status, 'attempts', j.attempts,
         'run_rows', coalesce(pj.runs, 0), 'first_attempt', pj.first_attempt,
         'last_attempt', pj.last_attempt)
FROM leasehold.jobs AS j LEFT JOIN per_job AS pj ON pj.job_id = j.id
WHERE j.status IN ('failed', 'cancelled')
  AND ($1::timestamptz = '-infinity' OR j.finished_at >= $1)
  AND (coalesce(pj.runs, 0) <> j.attempts
       OR (j.attempts > 0 AND (pj.first_attempt <> 1 OR pj.last_attempt <> j.attempts)))
