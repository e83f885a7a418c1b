-- 016: job_runs by finish time, for `leasehold verify --since` (and history
-- that is read or trimmed by age). A BRIN index: run rows are written once,
-- when an attempt ends, so finish times follow the table's physical order
-- and a summary per block range finds recent rows; it costs the writes of
-- completions almost nothing, unlike a btree.
CREATE INDEX job_runs_finished_brin ON leasehold.job_runs USING brin (finished_at);
