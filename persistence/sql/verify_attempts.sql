-- leasehold verify, the attempts of each job (see persistence/verify.hpp):
-- at most one success, nothing after it, and once a job is terminal one run
-- row per attempt, numbered 1..attempts without gaps. $1 limits it to jobs
-- with an attempt that finished at or after that time (all their attempts
-- are read) and to dead jobs that finished since.
-- One pass over job_runs counts numbers per job (no text: the grouping of
-- millions of rows is the cost); joined once with the live job rows, it
-- keeps the few suspects, which are sorted into checks afterwards.
WITH p AS (
  SELECT $1::timestamptz AS since, $2::bigint AS grace_ms,
         $3::timestamptz AS trace_cutoff, $4::bigint AS default_ttl_ms
), per_job AS (
  SELECT r.job_id, count(*) AS runs, min(r.attempt) AS first_attempt,
         max(r.attempt) AS last_attempt,
         count(*) FILTER (WHERE r.outcome = 'succeeded') AS successes,
         max(r.attempt) FILTER (WHERE r.outcome = 'succeeded') AS success_attempt
  FROM leasehold.job_runs AS r
  -- With --since, the jobs of attempts that finished since then (found by
  -- job_runs_finished_brin); the scan of the rest is the cost.
  WHERE $1::timestamptz = '-infinity'
     OR r.job_id IN (SELECT job_id FROM leasehold.job_runs WHERE finished_at >= $1)
  GROUP BY r.job_id
), suspect AS MATERIALIZED (
  SELECT coalesce(pj.job_id, j.id) AS job_id, coalesce(pj.runs, 0) AS runs,
         pj.first_attempt, pj.last_attempt, coalesce(pj.successes, 0) AS successes,
         pj.success_attempt, j.id IS NOT NULL AS live, j.status, j.attempts,
         j.status IN ('failed', 'cancelled')
           AND ($1::timestamptz = '-infinity' OR j.finished_at >= $1) AS dead
  FROM per_job AS pj
  FULL JOIN leasehold.jobs AS j ON j.id = pj.job_id
  WHERE pj.successes > 1
     OR (pj.successes > 0 AND (pj.last_attempt > pj.success_attempt OR j.id IS NOT NULL))
     OR (pj.successes = 1 AND (pj.runs <> pj.success_attempt OR pj.first_attempt <> 1))
     OR (j.status IN ('failed', 'cancelled')
         AND ($1::timestamptz = '-infinity' OR j.finished_at >= $1)
         AND (coalesce(pj.runs, 0) <> j.attempts
              OR (j.attempts > 0
                  AND (pj.first_attempt <> 1 OR pj.last_attempt <> j.attempts))))
)
SELECT 'one_success_per_job', jsonb_build_object(
         'job_id', s.job_id, 'successes', (
           SELECT jsonb_agg(jsonb_build_object('attempt', r.attempt,
                    'worker_id', r.worker_id, 'finished_at', r.finished_at)
                    ORDER BY r.attempt)
           FROM leasehold.job_runs AS r
           WHERE r.job_id = s.job_id AND r.outcome = 'succeeded'))
FROM suspect AS s WHERE s.successes > 1
UNION ALL
SELECT 'nothing_after_success', jsonb_build_object(
         'job_id', job_id, 'success_attempt', success_attempt,
         'last_attempt', last_attempt, 'job_row_status', status)
FROM suspect
WHERE successes > 0 AND (last_attempt > success_attempt OR live)
UNION ALL
-- A succeeded job lives on in its success's run row only (migration 011).
SELECT 'attempts_match_runs', jsonb_build_object(
         'job_id', job_id, 'status', 'succeeded', 'attempts', success_attempt,
         'run_rows', runs, 'first_attempt', first_attempt, 'last_attempt', last_attempt)
FROM suspect
WHERE successes = 1 AND (runs <> success_attempt OR first_attempt <> 1)
UNION ALL
SELECT 'attempts_match_runs', jsonb_build_object(
         'job_id', job_id, 'status', status, 'attempts', attempts, 'run_rows', runs,
         'first_attempt', first_attempt, 'last_attempt', last_attempt)
FROM suspect
WHERE dead AND (runs <> attempts
                OR (attempts > 0 AND (first_attempt <> 1 OR last_attempt <> attempts)))
