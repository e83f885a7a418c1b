-- Each queue's state for /metrics (leasehold.queue_overview, migration 024),
-- by name: queued (due and scheduled) and running jobs, pause and limits.
SELECT coalesce(jsonb_object_agg(o.queue, to_jsonb(o) - 'queue'
                                 || jsonb_build_object('queued', o.due + o.scheduled)), '{}')::text
FROM leasehold.queue_overview AS o
