-- Sets queue $1's cluster-wide concurrency limit to $2 (NULL: none;
-- migration 022). Returns the queue's state as JSON.
SELECT jsonb_build_object('queue', q.name, 'paused', q.paused,
                          'concurrency', q.concurrency)::text
FROM leasehold.set_queue_concurrency($1::text, $2::integer) AS q
