-- Dead jobs (status failed) that finished within $2 hours, optionally of
-- type $3 and correlation id $4 (NULL: any), newest first, at most $1, with
-- a summary over all matching dead jobs. The reason is last_error_code;
-- a plain handler_error that ended a job counts as handler_error.
WITH dead AS (
  SELECT j.*, coalesce(j.last_error_code, 'handler_error') AS reason
  FROM leasehold.jobs AS j
  WHERE j.status = 'failed'
    AND j.finished_at > now() - $2::integer * interval '1 hour'
    AND ($3::text IS NULL OR j.type = $3::text)
    AND ($4::text IS NULL
         OR leasehold.correlation_of(j.id, j.correlation_id) = $4::text)
)
SELECT jsonb_build_object(
  'summary', jsonb_build_object(
    'total_dead', (SELECT count(*) FROM dead),
    'by_type', coalesce((SELECT jsonb_object_agg(type, n) FROM
      (SELECT type, count(*) AS n FROM dead GROUP BY type) AS t), '{}'),
    'by_reason', coalesce((SELECT jsonb_object_agg(reason, n) FROM
      (SELECT reason, count(*) AS n FROM dead GROUP BY reason) AS r), '{}')),
  'jobs', coalesce((SELECT jsonb_agg(jsonb_build_object(
      'id', id, 'type', type, 'queue', queue, 'reason', reason,
      'last_error', last_error, 'attempts', attempts,
      'max_attempts', max_attempts,
      'correlation_id', leasehold.correlation_of(id, correlation_id),
      'trace_id', trace_id, 'worker', locked_by, 'finished_at', finished_at)
      ORDER BY finished_at DESC, id DESC)
    FROM (SELECT * FROM dead ORDER BY finished_at DESC, id DESC
          LIMIT $1::integer) AS page), '[]')
)::text
