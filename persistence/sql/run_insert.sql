-- Creates a run; its partitions follow in the same transaction.
INSERT INTO leasehold.runs (type, label, expected, on_complete_type, correlation_id)
VALUES ($1, $2, $3::integer, $4, coalesce($5, gen_random_uuid()::text))
RETURNING id, correlation_id
