-- Jobs held by a node, longest held first, at most $1: each with its
-- attempt, owner, since when, and its attempt's progress (migration 020).
-- A job claimed ahead of its handler counts too: its lease is as real.
-- Read through jobs_running_idx: at most the fleet's slots and buffers.
SELECT coalesce(jsonb_agg(jsonb_build_object(
    'id', id, 'type', type, 'queue', queue, 'attempt', attempts,
    'max_attempts', max_attempts, 'worker', locked_by, 'locked_at', locked_at,
    'heartbeat_at', heartbeat_at, 'trace_id', trace_id,
    'progress', leasehold.attempt_progress(progress, attempts, NULL))
    ORDER BY locked_at, id), '[]')::text
FROM (SELECT * FROM leasehold.jobs WHERE status = 'running'
      ORDER BY locked_at, id LIMIT $1::integer) AS held
