-- Inserts this node as STARTING. For a singleton type the partial unique
-- index rejects a second active instance: unique_violation, nothing written.
INSERT INTO leasehold.worker_instances
  (worker_id, worker_type, singleton, status, hostname, pid, version, metadata)
VALUES ($1, $2, $3::boolean, 'STARTING', $4, $5::integer, $6, $7::jsonb)
