#!/usr/bin/env bash
# Retention at scale (issue 20): pruning N expired runs, alone and while a
# drain runs, and the drain's throughput with pruning against without.
# One private Postgres. A template database holds N runs completed 40 days
# ago, one partition each (benchmarks/prune/seed.sql: two INSERT ... SELECT
# generate_series, then VACUUM ANALYZE). Each round copies it (CREATE DATABASE
# ... TEMPLATE, STRATEGY FILE_COPY) and runs:
#   alone  `leasehold prune --json` (default retention) until done: runs/s;
#   drain  benchmarks/peers/leasehold/drain.sh (J no-op jobs, 2 nodes x 24)
#          with `--prune-interval 0ms` (no pruning): jobs/s;
#   during the same drain with `--prune-interval 1s` (the nodes prune,
#          one at a time, from 1 s after their start, paced as by default:
#          resting at least 200 ms and 9 times each batch's time after it):
#          jobs/s, and how many runs were pruned while it drained;
#   fullspeed  the same with `--prune-pause 0ms --prune-share 100%` (no rest).
# Rounds run the three drains in rotated order.
#   scripts/bench-prune.sh             10M runs; 4 rounds of 300k jobs
#   scripts/bench-prune.sh --smoke     20k runs; 1 round of 2,000 jobs (~40 s)
#   --runs N, --jobs N, --rounds N     override either mode
# Env: LEASEHOLD_PRUNE_PG_PORT (55473), LEASEHOLD_PRUNE_BIN (build/leasehold),
# LEASEHOLD_PRUNE_NO_BUILD=1. Prints a summary; logs and results.jsonl under
# .leasehold/prune/logs/<stamp>-<mode>.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export LC_ALL=C
die() { echo "bench-prune: $*" >&2; exit 1; }
say() { printf 'bench-prune [%4ds] %s\n' "$SECONDS" "$*" >&2; }

mode=full runs="" jobs="" rounds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) mode=smoke ;;
    --runs|--jobs|--rounds) [ $# -ge 2 ] || die "$1 needs a value"; declare "${1#--}=$2"; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
case "$mode" in
  full)  runs="${runs:-10000000}" jobs="${jobs:-300000}" rounds="${rounds:-4}" ;;
  smoke) runs="${runs:-20000}" jobs="${jobs:-2000}" rounds="${rounds:-1}" ;;
esac
port="${LEASEHOLD_PRUNE_PG_PORT:-55473}"
for v in runs jobs rounds port; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
lh_bin="$(realpath -m "${LEASEHOLD_PRUNE_BIN:-build/leasehold}")"
pgbin=/usr/lib/postgresql/15/bin
logs="$root/.leasehold/prune/logs/$(date -u +%Y%m%dT%H%M%SZ)-$mode"
mkdir -p "$logs"
results="$logs/results.jsonl"

if [ "${LEASEHOLD_PRUNE_NO_BUILD:-0}" != 1 ]; then
  say "building leasehold (cmake --build build -j2 --target leasehold)"
  { [ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j2 --target leasehold; } >"$logs/build.log" 2>&1 ||
    die "build failed: see $logs/build.log"
fi
[ -x "$lh_bin" ] || die "$lh_bin missing (build it, or set LEASEHOLD_PRUNE_BIN)"

LEASEHOLD_PG_DIR="$root/.leasehold/pg-prune$([ "$mode" = smoke ] && echo -smoke || true)"
export LEASEHOLD_PG_DIR LEASEHOLD_PG_PORT="$port"
bash scripts/pg-local.sh destroy >/dev/null 2>&1 || true
trap 'bash "$root/scripts/pg-local.sh" stop >/dev/null 2>&1 || echo "bench-prune: could not stop Postgres on port $port" >&2' EXIT
trap 'exit 130' INT TERM
say "starting a fresh Postgres on port $port"
bash scripts/pg-local.sh start >/dev/null || die "Postgres did not start (scripts/pg-local.sh start)"
base="postgresql://postgres@127.0.0.1:$port"
psqlx() { local d="$1"; shift; PGOPTIONS="-c client_min_messages=warning" \
  "$pgbin/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$base/$d" "$@"; }

psqlx postgres -c "CREATE DATABASE prune_tpl"
"$lh_bin" --database-url "$base/prune_tpl" migrate >"$logs/migrate.log" 2>&1 || die "migrate failed"
say "seeding $runs expired runs (benchmarks/prune/seed.sql)"
t0=$SECONDS
psqlx prune_tpl -v runs="$runs" -v days=40 -f benchmarks/prune/seed.sql >/dev/null || die "seeding failed"
psqlx prune_tpl -c "VACUUM ANALYZE"
psqlx postgres -c CHECKPOINT
history="$(psqlx prune_tpl -c "SELECT (SELECT count(*) FROM leasehold.runs) || ' runs, '
  || count(*) || ' job_runs rows; database ' || pg_size_pretty(pg_database_size(current_database()))
  FROM leasehold.job_runs")"
say "template: $history (seeded in $(( SECONDS - t0 )) s)"

copy() {  # copy DB: a fresh copy of the template
  psqlx postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
    -c "CREATE DATABASE $1 TEMPLATE prune_tpl STRATEGY FILE_COPY"
}
left_runs() { psqlx "$1" -c "SELECT count(*) FROM leasehold.runs"; }

# Every 200 ms, while a drain runs: the time, the runs pruned so far (runs
# go in id order here, so min(id) - 1, one probe of the primary key) and
# whether any job is queued or running. Samples that fail (the database is
# being made) are skipped.
sample() {  # sample DB FILE (until killed)
  while :; do
    psqlx "$1" -c "SELECT extract(epoch FROM clock_timestamp()) || ',' ||
      coalesce((SELECT min(id) - 1 FROM leasehold.runs), $runs) || ',' ||
      (EXISTS (SELECT 1 FROM leasehold.jobs WHERE status IN ('queued', 'running')))::int" \
      >>"$2" 2>/dev/null || true
    sleep 0.2
  done
}

drain() {  # drain KIND ROUND
  local kind="$1" r="$2" args db="lh_$1" out sampler samples="$logs/$1-$2.samples"
  case "$kind" in
    drain) args="--prune-interval 0ms" ;;
    during) args="--prune-interval 1s" ;;  # paced: the defaults
    fullspeed) args="--prune-interval 1s --prune-pause 0ms --prune-share 100%" ;;  # no rest
  esac
  : >"$samples"
  sample "$db" "$samples" & sampler=$!
  out="$(LH_BIN="$lh_bin" LH_DB_BASE="$base" LH_DB="$db" LH_DB_TEMPLATE=prune_tpl JOBS="$jobs" \
    LH_NODE_ARGS="$args" LH_LOG_DIR="$logs/$kind-$r" DRIVER_TIMEOUT_S=3600 \
    bash benchmarks/peers/leasehold/drain.sh)" || { kill "$sampler"; die "drain ($kind) failed (logs: $logs/$kind-$r)"; }
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  # Runs pruned while jobs were left: at the last sample that saw one.
  local during; during="$(awk -F, '$3 == 1 { p = $2 } END { print p + 0 }' "$samples")"
  local left; left="$(left_runs "$db")"
  echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); d.update(kind='$kind', round=$r, runs_pruned_by_drain_end=$during, runs_pruned_by_exit=$runs-$left); print(json.dumps(d))" >>"$results"
  say "$kind round $r: $(tail -n 1 "$results" | python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"{d['jobs_per_s_wall']:.0f} jobs/s over {d['wall_ms']/1000:.1f} s; runs pruned by the drain's end {d['runs_pruned_by_drain_end']}, by the nodes' exit {d['runs_pruned_by_exit']}\")")"
  psqlx postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}

kinds=(drain during fullspeed)
for r in $(seq 1 "$rounds"); do
  for k in 0 1 2; do drain "${kinds[$(( (k + r - 1) % 3 ))]}" "$r"; done
done

copy prune_alone
say "pruning $runs runs alone (leasehold prune --json)"
t0="$(date +%s%N)"
"$lh_bin" --database-url "$base/prune_alone" prune --json >"$logs/prune-alone.json" 2>"$logs/prune-alone.err" ||
  die "prune failed: $(tail -n 1 "$logs/prune-alone.err")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
left="$(left_runs prune_alone)"
[ "$left" = 0 ] || die "prune left $left runs"
python3 -c "import json; d=json.load(open('$logs/prune-alone.json')); d.update(kind='alone', wall_ms=$ms, runs_per_s=round($runs*1000/max($ms,1))); print(json.dumps(d))" >>"$results"
say "alone: $(tail -n 1 "$results")"

python3 - "$results" "$runs" "$jobs" "$history" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(kind, key):
    xs = [r[key] for r in rows if r["kind"] == kind]
    return statistics.median(xs) if xs else float("nan")
base, during = med("drain", "jobs_per_s_wall"), med("during", "jobs_per_s_wall")
alone = [r for r in rows if r["kind"] == "alone"][0]
print(f"template: {sys.argv[4]}")
print(f"prune alone: {alone['runs']} runs ({alone['attempt_rows']} job_runs rows) in {alone['wall_ms']/1000:.1f} s"
      f" = {alone['runs_per_s']} runs/s, {alone['batches']} batches")
print(f"drain of {sys.argv[3]} no-op jobs without pruning: {base:.0f} jobs/s (median)")
for kind, what in (("during", "the nodes prune (default pacing: --prune-pause 200ms --prune-share 10%)"),
                   ("fullspeed", "the nodes prune at full speed (--prune-pause 0ms --prune-share 100%)")):
    x = med(kind, "jobs_per_s_wall")
    print(f"the same drain while {what}: {x:.0f} jobs/s (median), {x/base:.2f}x;"
          f" runs pruned while it drained (median): {med(kind, 'runs_pruned_by_drain_end'):.0f}"
          f" in {med(kind, 'wall_ms')/1000:.1f} s (pruning starts 1 s after the nodes)")
for r in rows:
    if r["kind"] != "alone":
        print(f"  {r['kind']:6} round {r['round']}: {r['jobs_per_s_wall']:.0f} jobs/s,"
              f" {r['runs_pruned_by_drain_end']} runs pruned by the drain's end")
PY
