-- Deletes the chains $1 (text[]) that may go whole (migration 025): $2
-- succeeded, $3 dead and $4 runs cutoffs. Replies with the succeeded jobs,
-- dead jobs, runs and job_runs rows deleted.
SELECT succeeded, dead, runs, attempts
FROM leasehold.prune_chains($1::text[], $2::timestamptz, $3::timestamptz,
                            $4::timestamptz)
