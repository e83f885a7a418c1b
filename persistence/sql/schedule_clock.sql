-- The database's clock (the one authority on time for schedules): now in
-- the time zone $1, as a timestamp, and as milliseconds since the epoch. An
-- unknown zone is an error (22023).
SELECT (now() AT TIME ZONE $1)::text, floor(extract(epoch FROM now()) * 1000)::bigint
