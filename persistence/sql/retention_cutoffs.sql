-- The cutoffs of one retention pass, by the database's clock: history that
-- ended before now() minus each retention ($1 succeeded, $2 dead, $3 runs,
-- $4 instances, $5 violations, in ms) is expired; 0 keeps it forever
-- (-infinity: nothing ended before it); and now(), before which a unique
-- key's window must have ended. Fixed for the whole pass.
SELECT CASE WHEN $1::bigint > 0 THEN now() - $1::bigint * interval '1 ms' ELSE '-infinity' END,
       CASE WHEN $2::bigint > 0 THEN now() - $2::bigint * interval '1 ms' ELSE '-infinity' END,
       CASE WHEN $3::bigint > 0 THEN now() - $3::bigint * interval '1 ms' ELSE '-infinity' END,
       CASE WHEN $4::bigint > 0 THEN now() - $4::bigint * interval '1 ms' ELSE '-infinity' END,
       CASE WHEN $5::bigint > 0 THEN now() - $5::bigint * interval '1 ms' ELSE '-infinity' END,
       now()
