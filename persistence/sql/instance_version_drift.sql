-- Worker types whose RUNNING instances run more than one version.
SELECT coalesce(jsonb_agg(jsonb_build_object('worker_type', worker_type,
                                             'versions', versions)), '[]')::text
FROM (
  SELECT worker_type, jsonb_agg(DISTINCT version) AS versions
  FROM leasehold.worker_instances
  WHERE status = 'RUNNING'
  GROUP BY worker_type
  HAVING count(DISTINCT version) > 1
) AS d
