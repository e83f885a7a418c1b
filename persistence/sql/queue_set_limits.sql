-- Changes queue $1's limits (migrations 022-024): $2 a JSON object of the
-- ones to change, null removing one. Returns the queue's limits as JSON.
SELECT jsonb_build_object(
         'queue', q.name, 'paused', q.paused, 'concurrency', q.concurrency,
         'per_key', q.per_key, 'rate', q.rate,
         'rate_period_seconds', extract(epoch FROM q.rate_period), 'burst', q.burst)::text
FROM leasehold.set_queue_limits($1::text, $2::jsonb) AS q
