-- Enqueues schedule $1's ticks $2 (a JSON array of texts): timestamps in its
-- zone $3, or, with $4,
-- milliseconds since the epoch (@every). Each tick's job runs at the tick
-- and holds the key schedule:<name>@<tick in UTC> for good (an any key, so a
-- tick enqueued again is a duplicate). Returns each tick's job, in order.
WITH ticks AS (
  SELECT CASE WHEN $4::boolean THEN to_timestamp(t::bigint / 1000.0)
              ELSE t::timestamp AT TIME ZONE $3 END AS at
  FROM jsonb_array_elements_text($2::jsonb) AS t
)
SELECT e.id, e.duplicate, t.at
FROM leasehold.schedules AS s, ticks AS t,
     LATERAL leasehold.enqueue(
       s.type, s.payload, s.queue, s.priority, s.max_attempts, t.at, NULL,
       'schedule:' || s.name || '@'
         || to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       'any') AS e
WHERE s.name = $1
ORDER BY t.at
