-- Locks run $1 (nothing if it does not exist), serialising a retry with
-- the completion check of the same run.
SELECT id FROM leasehold.runs WHERE id = $1 FOR UPDATE
