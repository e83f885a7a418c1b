#!/usr/bin/env bash
# Paced single-job pickup and the claim statement's time, for
# scripts/bench-history.sh, on an existing migrated database LH_DB: one
# `leasehold node --concurrency 24` process from the CLI; a separate client
# (pgbench, one connection, -M prepared) enqueues SAMPLES no-op jobs with
# leasehold's own single-job INSERT (persistence/sql/job_insert.sql,
# parameters bound), sleeping GAP_MS between them, so each one wakes an idle
# node through NOTIFY. Pickup = the job's first started_at - its created_at
# (database times). The claim's and the completion's execution times come
# from pg_stat_statements (reset after a warm-up of 20 jobs), for every call
# the node made in the meantime (its idle claims included).
# Prints one JSON line. Env: LH_BIN, LH_DB_BASE, LH_DB (lh_drain), SAMPLES
# (200), GAP_MS (50), LH_NODE_ARGS, LH_LOG_DIR, DRIVER_TIMEOUT_S (300).
set -euo pipefail
export LC_ALL=C
die() { echo "leasehold pickup: $*" >&2; exit 1; }
pgbin=/usr/lib/postgresql/15/bin
here="$(cd "$(dirname "$0")" && pwd)"
bin="${LH_BIN:-build/leasehold}" db="${LH_DB:-lh_drain}"
base="${LH_DB_BASE:?LH_DB_BASE is needed}" url="$base/$db"
samples="${SAMPLES:-200}" gap_ms="${GAP_MS:-50}" limit_s="${DRIVER_TIMEOUT_S:-300}"
logdir="${LH_LOG_DIR:-$(mktemp -d /tmp/leasehold-pickup.XXXXXX)}"
mkdir -p "$logdir"
for v in samples gap_ms limit_s; do [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number"; done
read -r -a extra <<<"${LH_NODE_ARGS:-}"
node_args=(node --concurrency 24)
[[ " ${LH_NODE_ARGS:-} " == *" --http-listen"* ]] || node_args+=(--http-listen off)
node_args+=("${extra[@]}")
psqlx() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$url" "$@"; }

sed -E -e 's/\$(1[01]|[3-9])/NULL/g; s/\$1/:jtype/g; s/\$2/:payload/g' "$here/../../persistence/sql/job_insert.sql" >"$logdir/paced.sql"
printf '\n;\n\\sleep %s ms\n' "$gap_ms" >>"$logdir/paced.sql"
enqueue() {  # enqueue COUNT
  "$pgbin/pgbench" -n -M prepared -c 1 -t "$1" -D jtype=noop -D payload='{"paced":true}' \
    -f "$logdir/paced.sql" "$url" >>"$logdir/pgbench.out" 2>&1 || die "pgbench failed (log: $logdir/pgbench.out)"
}
drained() {  # waits until no job is queued or running
  local deadline=$(( SECONDS + limit_s ))
  until [ "$(psqlx -c "SELECT EXISTS (SELECT 1 FROM leasehold.jobs WHERE status IN ('queued', 'running'))")" = f ]; do
    kill -0 "$pid" 2>/dev/null || die "the node exited early: $(tail -n 1 "$logdir/pickup-node.err" | cut -c1-300)"
    [ "$SECONDS" -lt "$deadline" ] || die "jobs still queued after $limit_s s (logs: $logdir)"
    sleep 0.1
  done
}

pid=""
trap '[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true' EXIT
"$bin" --database-url "$url" "${node_args[@]}" >"$logdir/pickup-node.out" 2>"$logdir/pickup-node.err" &
pid=$!
enqueue 20   # warm-up (the first one waits for the node to start)
drained
sleep 1
from="$(psqlx -c "SELECT coalesce(max(job_id), 0) FROM leasehold.job_runs")"
psqlx -c "SELECT pg_stat_statements_reset()" >/dev/null
enqueue "$samples"
drained
stats="$(psqlx -v from="$from" <<'SQL'
SELECT json_build_object(
  'samples', count(*),
  'p50_ms', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 3),
  'p90_ms', round((percentile_cont(0.9) WITHIN GROUP (ORDER BY ms))::numeric, 3),
  'p99_ms', round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 3),
  'max_ms', round(max(ms)::numeric, 3),
  'claim', (SELECT json_build_object('calls', sum(calls),
              'mean_ms', round((sum(total_exec_time) / nullif(sum(calls), 0))::numeric, 3),
              'max_ms', round(max(max_exec_time)::numeric, 3))
            FROM pg_stat_statements WHERE query LIKE '%FOR UPDATE SKIP LOCKED%'),
  'complete', (SELECT json_build_object('calls', sum(calls),
              'mean_ms', round((sum(total_exec_time) / nullif(sum(calls), 0))::numeric, 3),
              'max_ms', round(max(max_exec_time)::numeric, 3))
            FROM pg_stat_statements WHERE query LIKE '%INSERT INTO leasehold.job_runs%'
              AND query LIKE '%DELETE FROM leasehold.jobs%'))
FROM (SELECT extract(epoch FROM min(started_at) - max(created_at)) * 1000 AS ms
      FROM leasehold.job_runs WHERE job_id > :'from'::bigint GROUP BY job_id) AS p;
SQL
)"
kill -TERM "$pid"
wait "$pid" || die "the node exited $? after SIGTERM (logs: $logdir)"
pid=""
echo "$stats"
