-- Every queue that has jobs waiting or held, or a state of its own
-- (leasehold.queue_overview, migration 024): paused or not (since when), its
-- limits (null: none): concurrency, per key, rate (jobs per
-- rate_period_seconds, burst, the whole tokens its bucket has now, the
-- jobs started per second lately), how long it has been at its concurrency
-- limit, jobs due, scheduled for later, held by nodes, and the lag
-- (seconds the oldest due job has waited).
SELECT coalesce(jsonb_agg(to_jsonb(o) ORDER BY o.queue), '[]')::text
FROM leasehold.queue_overview AS o
