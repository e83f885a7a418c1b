-- The figures of scripts/bench-pressure.sh, read from the database after the
-- run (psql --csv). Variables: phases (lines "name|fault|t0|t1", epoch
-- seconds of this machine's clock, which Postgres shares), rate (offered
-- jobs/s), clean (the clean phase's name), out_phases, out_seconds and
-- out_check (CSV files written).
-- A job's pickup is its first attempt's started_at (the claim's time plus
-- what the node held it in its buffer) minus its created_at (the enqueuing
-- INSERT's transaction time); completions are succeeded job_runs rows by
-- finished_at (the completion's transaction time).
\set ON_ERROR_STOP 1
CREATE TEMP TABLE ph AS
SELECT ord::int, split_part(l, '|', 1) AS phase, split_part(l, '|', 2) AS fault,
       to_timestamp(split_part(l, '|', 3)::float8) AS t0,
       to_timestamp(split_part(l, '|', 4)::float8) AS t1
FROM string_to_table(:'phases', E'\n') WITH ORDINALITY AS x (l, ord)
WHERE l <> '';

-- One row per job: when it was made, when its first attempt started, its
-- succeeded runs (exactly one is right) and its attempts.
CREATE TEMP TABLE pj AS
SELECT job_id, max(created_at) AS created_at, min(started_at) AS first_start,
       max(finished_at) FILTER (WHERE outcome = 'succeeded') AS finished_at,
       count(*) FILTER (WHERE outcome = 'succeeded') AS n_ok, count(*) AS runs
FROM leasehold.job_runs GROUP BY job_id;

-- Completions per whole second of each phase, from the phase's start (so a
-- recovery window counts from the end of its fault); seconds without any
-- completion count 0.
CREATE TEMP TABLE persec AS
WITH c AS (
  SELECT ph.ord, floor(extract(epoch FROM r.finished_at - ph.t0))::int AS k, count(*) AS n
  FROM leasehold.job_runs AS r JOIN ph ON r.finished_at >= ph.t0 AND r.finished_at < ph.t1
  WHERE r.outcome = 'succeeded' GROUP BY 1, 2
), e AS (
  SELECT ph.ord, floor(extract(epoch FROM pj.created_at - ph.t0))::int AS k, count(*) AS n
  FROM pj JOIN ph ON pj.created_at >= ph.t0 AND pj.created_at < ph.t1 GROUP BY 1, 2
)
SELECT ph.ord, ph.phase, k, ph.t0 + k * interval '1 second' AS second_start,
       coalesce(c.n, 0) AS completed, coalesce(e.n, 0) AS enqueued
FROM ph
CROSS JOIN LATERAL generate_series(0, floor(extract(epoch FROM ph.t1 - ph.t0))::int - 1) AS k
LEFT JOIN c USING (ord, k) LEFT JOIN e USING (ord, k);

CREATE TEMP TABLE clean_rate AS
SELECT sum(completed)::float8 / count(*) AS per_s FROM persec WHERE phase = :'clean';

\o :out_phases
SELECT ph.phase, ph.fault,
       round(extract(epoch FROM ph.t1 - ph.t0)::numeric, 1) AS seconds,
       :'rate'::int AS offered_per_s,
       e.n AS enqueued, round(e.n / extract(epoch FROM ph.t1 - ph.t0)::numeric, 1) AS enqueued_per_s,
       d.n AS completed, round(d.n / extract(epoch FROM ph.t1 - ph.t0)::numeric, 1) AS completed_per_s,
       round(d.n / extract(epoch FROM ph.t1 - ph.t0)::numeric / :'rate'::int, 3) AS completion_ratio,
       round(s.lo::numeric / :'rate'::int, 3) AS min_1s_ratio,
       round(p.p50::numeric, 1) AS pickup_p50_ms, round(p.p99::numeric, 1) AS pickup_p99_ms,
       round(p.mx::numeric, 1) AS pickup_max_ms, e.extra AS extra_attempts, e.unfinished,
       CASE WHEN ph.fault = 'none' AND ph.phase <> :'clean' THEN coalesce(rec.k::text, 'none') END
         AS recovery_s,
       CASE WHEN ph.fault = 'none' AND ph.phase <> :'clean' THEN round(greatest(0, extract(epoch FROM
         (SELECT max(first_start) FROM pj WHERE created_at < ph.t0) - ph.t0))::numeric, 1) END
    AS backlog_cleared_s
FROM ph
CROSS JOIN LATERAL (
  SELECT count(*) AS n, coalesce(sum(runs - 1), 0) AS extra,
         count(*) FILTER (WHERE n_ok = 0) AS unfinished
  FROM pj WHERE created_at >= ph.t0 AND created_at < ph.t1) AS e
CROSS JOIN LATERAL (
  SELECT count(*) AS n FROM leasehold.job_runs
  WHERE outcome = 'succeeded' AND finished_at >= ph.t0 AND finished_at < ph.t1) AS d
CROSS JOIN LATERAL (
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS mx
  FROM (SELECT extract(epoch FROM first_start - created_at) * 1000 AS ms
        FROM pj WHERE created_at >= ph.t0 AND created_at < ph.t1) AS m) AS p
CROSS JOIN LATERAL (SELECT min(completed) AS lo FROM persec WHERE persec.ord = ph.ord) AS s
-- Recovery: the whole seconds from the fault's end (this window's start) to
-- the first second whose completions reach 90% of the clean phase's rate.
-- Backlog cleared (above): from the fault's end until the last job created
-- before it had started.
CROSS JOIN LATERAL (
  SELECT min(k) AS k FROM persec, clean_rate
  WHERE persec.ord = ph.ord AND completed >= 0.9 * clean_rate.per_s) AS rec
ORDER BY ph.ord;

\o :out_seconds
SELECT phase, k AS second, to_char(second_start AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS utc,
       enqueued, completed
FROM persec ORDER BY ord, k;

\o :out_check
SELECT count(*) AS jobs, count(*) FILTER (WHERE n_ok = 1) AS one_success,
       count(*) FILTER (WHERE n_ok > 1) AS several_successes,
       count(*) FILTER (WHERE n_ok = 0) AS no_success,
       coalesce(sum(runs - 1), 0) AS extra_attempts,
       (SELECT count(*) FROM leasehold.jobs) AS left_in_jobs,
       (SELECT count(*) FROM leasehold.job_runs WHERE outcome <> 'succeeded') AS other_runs,
       (SELECT string_agg(outcome || ' ' || n, ', ') FROM (
          SELECT outcome, count(*) AS n FROM leasehold.job_runs
          WHERE outcome <> 'succeeded' GROUP BY outcome) AS o) AS other_outcomes,
       round((SELECT per_s FROM clean_rate)::numeric, 1) AS clean_completed_per_s
FROM pj;
\o
