-- Locks the schedules due now that no other scheduler holds (SKIP LOCKED:
-- each is taken by one node), up to $1, with the clock in each one's zone.
SELECT name, cron, tz, catch_up,
       (next_tick_at AT TIME ZONE tz)::text AS next_local,
       floor(extract(epoch FROM next_tick_at) * 1000)::bigint AS next_ms,
       (now() AT TIME ZONE tz)::text AS now_local,
       floor(extract(epoch FROM now()) * 1000)::bigint AS now_ms
FROM leasehold.schedules
WHERE NOT paused AND next_tick_at <= now()
ORDER BY next_tick_at
LIMIT $1
FOR UPDATE SKIP LOCKED
