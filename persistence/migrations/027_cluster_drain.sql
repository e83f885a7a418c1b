-- 027: draining a node from any other (issue 21). An operator asks, through
-- any node, that one instance stop claiming, give back the jobs it claimed
-- ahead, finish what runs and exit. The request is this column: the node
-- reads it with its heartbeat, so it takes effect with the cluster links
-- down too; over a link the node is only told to look now.
ALTER TABLE leasehold.worker_instances ADD COLUMN drain_requested_at timestamptz;
