-- Worker instances, newest first; $1 true includes STOPPED ones.
SELECT coalesce(jsonb_agg(jsonb_build_object(
  'worker_id', worker_id, 'worker_type', worker_type, 'singleton', singleton,
  'status', status, 'hostname', hostname, 'pid', pid, 'version', version,
  'metadata', metadata, 'endpoint', endpoint, 'started_at', started_at,
  'last_heartbeat_at', last_heartbeat_at,
  'heartbeat_age_seconds',
    round(extract(epoch FROM now() - last_heartbeat_at)::numeric, 1),
  'stopping_at', stopping_at, 'stopped_at', stopped_at)
  ORDER BY started_at DESC), '[]'::jsonb)::text
FROM leasehold.worker_instances
WHERE $1::boolean OR status <> 'STOPPED'
