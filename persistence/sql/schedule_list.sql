-- Every schedule, by name, as a JSON array (late: due more than $1 ms ago
-- and not paused, which /health reports).
SELECT coalesce(jsonb_agg(jsonb_build_object(
  'name', name, 'cron', cron, 'tz', tz, 'type', type, 'payload', payload,
  'queue', queue, 'priority', priority, 'max_attempts', max_attempts,
  'catch_up', catch_up, 'paused', paused, 'next_tick_at', next_tick_at,
  'last_tick_at', last_tick_at, 'last_enqueued_at', last_enqueued_at,
  'last_job_id', last_job_id, 'ticks_enqueued', ticks_enqueued,
  'ticks_skipped', ticks_skipped,
  'late', NOT paused AND next_tick_at < now() - $1::bigint * interval '1 millisecond')
  ORDER BY name), '[]')::text
FROM leasehold.schedules
