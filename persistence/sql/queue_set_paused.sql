-- Pauses ($2 true) or resumes queue $1 (migration 021: set_queue_paused
-- waits for claims of the queue under way, then no claim passes). Returns
-- the queue's state as JSON.
SELECT jsonb_build_object('queue', q.name, 'paused', q.paused,
                          'paused_at', q.paused_at)::text
FROM leasehold.set_queue_paused($1::text, $2::boolean) AS q
