#!/usr/bin/env bash
# leasehold with a long history (issue 18): the no-op drain of bench-peers
# (N jobs bulk enqueued, then 2 `leasehold node --concurrency 24` processes
# from the CLI, wall clock from their start to the last completion:
# benchmarks/peers/leasehold/drain.sh) and paced single-job pickup with the
# claim statement's time (benchmarks/history/pickup.sh), each on a database
# whose leasehold.job_runs already holds 10 million rows and on one with an
# empty history, in the same run against one private Postgres, rounds
# interleaved (order rotated). The 10M rows are made once, by one
# INSERT ... SELECT generate_series (benchmarks/history/seed.sql says what they
# look like), then VACUUM ANALYZE; each round copies that database (a
# template, CREATE DATABASE ... STRATEGY FILE_COPY), so every round starts
# from the same state. See benchmarks/README-pressure.md.
#   scripts/bench-history.sh           10M rows; 3 rounds of 100k jobs; 200 pickups (~8 min)
#   scripts/bench-history.sh --quick   10M rows; 2 rounds of 100k jobs; 100 pickups (~6 min)
#   scripts/bench-history.sh --smoke   100k rows; 1 round of 2,000 jobs; 20 pickups; logs only (~40 s)
#   --rows N, --jobs N, --rounds N     override either mode;  --out PATH (PATH.md and PATH.csv)
# Env: LEASEHOLD_HISTORY_PG_PORT (55442), LEASEHOLD_HISTORY_BIN (build/leasehold),
# LEASEHOLD_HISTORY_NO_BUILD=1, LEASEHOLD_HISTORY_NODE_ARGS (more `node` flags).
# Writes benchmarks/results/history-<UTC date>[-quick].md and .csv (smoke: only
# under .leasehold/history/logs).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export LC_ALL=C
die() { echo "bench-history: $*" >&2; exit 1; }
say() { printf 'bench-history [%4ds] %s\n' "$SECONDS" "$*" >&2; }

mode=full rows="" jobs="" rounds="" out=""
orig_args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --rows|--jobs|--rounds|--out) [ $# -ge 2 ] || die "$1 needs a value"; declare "${1#--}=$2"; shift ;;
    --rows=*|--jobs=*|--rounds=*|--out=*) v="${1#--}"; declare "${v%%=*}=${v#*=}" ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
case "$mode" in
  full)  rows="${rows:-10000000}" jobs="${jobs:-100000}" rounds="${rounds:-3}" samples=200 ;;
  quick) rows="${rows:-10000000}" jobs="${jobs:-100000}" rounds="${rounds:-2}" samples=100 ;;
  smoke) rows="${rows:-100000}" jobs="${jobs:-2000}" rounds="${rounds:-1}" samples=20 ;;
esac
port="${LEASEHOLD_HISTORY_PG_PORT:-55442}"
for v in rows jobs rounds port; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
lh_bin="$(realpath -m "${LEASEHOLD_HISTORY_BIN:-build/leasehold}")"
node_args="${LEASEHOLD_HISTORY_NODE_ARGS:-}"
pgbin=/usr/lib/postgresql/15/bin
stamp="$(date -u +%Y-%m-%d)"
logs="$root/.leasehold/history/logs/$(date -u +%Y%m%dT%H%M%SZ)-$mode"
mkdir -p "$logs"
results="$logs/results.jsonl"
case "$mode" in
  full) out="${out:-benchmarks/results/history-$stamp}" ;;
  quick) out="${out:-benchmarks/results/history-$stamp-quick}" ;;
  smoke) out="${out:-$logs/history-smoke}" ;;
esac
mkdir -p "$(dirname "$out")"

if [ "${LEASEHOLD_HISTORY_NO_BUILD:-0}" != 1 ]; then
  say "building leasehold (cmake --build build -j2 --target leasehold)"
  { [ "${LEASEHOLD_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh
    [ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j2 --target leasehold; } >"$logs/build.log" 2>&1 ||
    die "build failed: see $logs/build.log"
fi
[ -x "$lh_bin" ] || die "$lh_bin missing (build it, or set LEASEHOLD_HISTORY_BIN)"
[ -x "$pgbin/pgbench" ] || die "$pgbin/pgbench missing (apt-get install postgresql-contrib)"

# One private Postgres with pg_stat_statements (for the claim's time), the same
# for both histories.
LEASEHOLD_PG_DIR="$root/.leasehold/pg-history$([ "$mode" = smoke ] && echo -smoke || true)"
export LEASEHOLD_PG_DIR LEASEHOLD_PG_PORT="$port" LEASEHOLD_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements"
bash scripts/pg-local.sh destroy
trap 'bash "$root/scripts/pg-local.sh" stop || echo "bench-history: could not stop Postgres on port $port" >&2' EXIT
trap 'exit 130' INT TERM
say "starting a fresh Postgres on port $port (${LEASEHOLD_PG_DIR#"$root"/})"
bash scripts/pg-local.sh start >/dev/null || die "Postgres did not start (scripts/pg-local.sh start)"
base="postgresql://postgres@127.0.0.1:$port"
psqlx() { local d="$1"; shift; PGOPTIONS="-c client_min_messages=warning" \
  "$pgbin/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$base/$d" "$@"; }

# --- the two template databases: an empty history, and $rows rows of it ----------
for tpl in hist_empty hist_full; do
  psqlx postgres -c "CREATE DATABASE $tpl"
  "$lh_bin" --database-url "$base/$tpl" migrate >>"$logs/migrate.log" 2>&1 || die "migrate failed (see $logs/migrate.log)"
  psqlx "$tpl" -c "CREATE EXTENSION pg_stat_statements"
done
say "seeding $rows rows of history into leasehold.job_runs (benchmarks/history/seed.sql)"
t0=$SECONDS
psqlx hist_full -v rows="$rows" -v days=14 -f benchmarks/history/seed.sql >/dev/null || die "seeding failed"
seed_s=$(( SECONDS - t0 ))
for tpl in hist_empty hist_full; do psqlx "$tpl" -c "VACUUM ANALYZE"; done
psqlx postgres -c CHECKPOINT
vacuum_s=$(( SECONDS - t0 - seed_s ))
history="$(psqlx hist_full -c "SELECT count(*) || ' rows (' || count(*) FILTER (WHERE outcome = 'succeeded')
  || ' succeeded, ' || count(*) FILTER (WHERE outcome = 'failed') || ' failed attempts) of '
  || count(DISTINCT job_id) || ' jobs, finished ' || to_char(min(finished_at), 'YYYY-MM-DD') || ' to '
  || to_char(max(finished_at), 'YYYY-MM-DD') || '; job_runs ' || pg_size_pretty(pg_total_relation_size('leasehold.job_runs'))
  || ' with its indexes; database ' || pg_size_pretty(pg_database_size(current_database())) FROM leasehold.job_runs")"
say "history: $history (seed ${seed_s} s, VACUUM ANALYZE ${vacuum_s} s)"

{
  printf 'date\t%s\n' "$(date -u +%FT%TZ)"
  printf 'machine\t%s CPUs (%s), %s MiB RAM, load average at start %s\n' "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)" "$(free -m | awk '/Mem:/{print $2}')" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'postgres\t%s, private cluster on 127.0.0.1:%s (shared_buffers=%s, pg_stat_statements loaded)\n' \
    "$(psqlx postgres -c 'SHOW server_version')" "$port" "$(psqlx postgres -c 'SHOW shared_buffers')"
  printf 'leasehold\t%s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- actors persistence runtime messages 2>/dev/null || echo ' + uncommitted changes')"
  printf 'history\t%s; made by one INSERT ... SELECT generate_series (benchmarks/history/seed.sql: 90%% of jobs succeed at once, 5%% after 1 and 5%% after 2 failed attempts, over the past 14 days, ~130-byte payloads, 1 in 10 with a correlation id) in %s s, then VACUUM ANALYZE (%s s); each round copies it\n' \
    "$history" "$seed_s" "$vacuum_s"
  printf 'drain\t%s no-op jobs, 2 x `leasehold node --concurrency 24%s`, as benchmarks/peers/leasehold/drain.sh\n' \
    "$jobs" "${node_args:+ $node_args}"
  printf 'pickup\t%s paced single no-op jobs (pgbench, one every 50 ms, job_insert.sql) to 1 node x 24, after each drain\n' "$samples"
  printf 'run\t%s mode, %s rounds\n' "$mode" "$rounds"
  printf 'command\tscripts/bench-history.sh%s\n' "${orig_args[*]:+$(printf ' %q' "${orig_args[@]}")}"
} >"$logs/meta.tsv"

# Pickup is measured on a quiet cluster (as bench-peers does): checkpoint, and up
# to a minute for autovacuum to finish.
quiesce() {
  psqlx postgres -c CHECKPOINT
  for _ in $(seq 1 120); do
    [ "$(psqlx postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")" = 0 ] && return 0
    sleep 0.5
  done
}
step() {  # step LOG CMD...: a driver with a time limit, its last JSON line on stdout
  local log="$1"; shift
  DRIVER_TIMEOUT_S=1200 timeout -k 10 1200 "$@" >"$log.out" 2>"$log.err" ||
    die "'$*' failed: $(tail -n 1 "$log.err" | cut -c1-300) (log: $log.err)"
  grep '^{' "$log.out" | tail -n 1 | grep . || die "'$*' printed no JSON (log: $log.out)"
}
variants=(empty full)
for r in $(seq 1 "$rounds"); do
  for i in 0 1; do
    v="${variants[$(( (r - 1 + i) % 2 ))]}" log="$logs/r$r-$v"
    say "round $r/$rounds: $v history: drain of $jobs jobs"
    drain="$(LH_BIN="$lh_bin" LH_DB_BASE="$base" LH_DB=lh_drain LH_DB_TEMPLATE="hist_$v" JOBS="$jobs" \
      LH_NODES=2 LH_CONCURRENCY=24 LH_HANDLER=noop LH_NODE_ARGS="$node_args" LH_LOG_DIR="$log-nodes" \
      step "$log-drain" bash benchmarks/peers/leasehold/drain.sh)"
    say "  $(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("{:,.0f} jobs/s".format(r["jobs_per_s_wall"]))' "$drain")"
    quiesce
    pickup="$(LH_BIN="$lh_bin" LH_DB_BASE="$base" LH_DB=lh_drain SAMPLES="$samples" GAP_MS=50 \
      LH_NODE_ARGS="$node_args" LH_LOG_DIR="$log-nodes" step "$log-pickup" bash benchmarks/history/pickup.sh)"
    printf '{"round": %s, "history": "%s", "drain": %s, "pickup": %s}\n' "$r" "$v" "$drain" "$pickup" >>"$results"
  done
done
printf 'load average at end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$logs/meta.tsv"
python3 benchmarks/history/summarize.py "$results" "$logs/meta.tsv" "$out.md" "$out.csv" || die "summarize.py failed"
bash scripts/pg-local.sh destroy   # GBs of history
say "wrote $out.md and $out.csv (logs: ${logs#"$root"/})"
