#!/usr/bin/env bash
# leasehold under pressure (issue 18's pressure cells): 2 `leasehold node
# --concurrency 24` processes started from the CLI take a fixed offered rate of
# 1 ms jobs (`sleep`, {"ms":1}), enqueued by a separate client (pgbench -R with
# leasehold's own single-job INSERT, persistence/sql/job_insert.sql, parameters
# bound), through a clean phase and then four faults, each followed by a
# recovery window without a fault:
#   xmin_pin      an idle-in-transaction REPEATABLE READ session pinning xmin
#   rr_readers    4 REPEATABLE READ readers counting leasehold.jobs every 100 ms
#   terminate     every backend but this script's own terminated twice a second
#   idle_conns    300 idle connections held (max_connections=400 here)
# Reported per phase: completions/s / offered, pickup p50/p99, and the seconds
# from each fault's end to the first second back at 90% of the clean rate; and
# that every enqueued job has exactly one succeeded run. See
# benchmarks/README-pressure.md.
#   scripts/bench-pressure.sh           clean 60 s, pin 180 s, others 60 s, recovery 30 s (~10 min)
#   scripts/bench-pressure.sh --quick   clean 20 s, pin 60 s, others 20 s, recovery 20 s (~4 min)
#   scripts/bench-pressure.sh --smoke   4 s phases at 200 jobs/s; logs only (~60 s; ctest bench.pressure_smoke)
#   --rate N (jobs/s; 2000, smoke 200)  --out PATH (write PATH.md and PATH.csv)
# Env: LEASEHOLD_PRESSURE_PG_PORT (55441), LEASEHOLD_PRESSURE_BIN (build/leasehold),
# LEASEHOLD_PRESSURE_NO_BUILD=1, LEASEHOLD_PRESSURE_NODE_ARGS (more `node` flags),
# LEASEHOLD_PRESSURE_ENQUEUE_SYNC=1 (the enqueuer's commits wait for the WAL flush:
# see "Offered load" in benchmarks/README-pressure.md; by default they do not).
# Writes benchmarks/results/pressure-<UTC date>[-quick].md and .csv (smoke: only
# under .leasehold/pressure/logs); node logs and per-second counts in the log dir.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export LC_ALL=C
die() { echo "bench-pressure: $*" >&2; exit 1; }
say() { printf 'bench-pressure [%4ds] %s\n' "$SECONDS" "$*" >&2; }

mode=full rate="" out=""
orig_args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --rate) [ $# -ge 2 ] || die "--rate needs a number"; rate="$2"; shift ;;
    --rate=*) rate="${1#*=}" ;;
    --out) [ $# -ge 2 ] || die "--out needs a path"; out="$2"; shift ;;
    --out=*) out="${1#*=}" ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
# phase seconds: clean, the xmin pin, each other fault, each recovery window
case "$mode" in
  full)  rate="${rate:-2000}" clean_s=60 pin_s=180 fault_s=60 recover_s=30 ;;
  quick) rate="${rate:-2000}" clean_s=20 pin_s=60 fault_s=20 recover_s=20 ;;
  smoke) rate="${rate:-200}" clean_s=4 pin_s=4 fault_s=4 recover_s=4 ;;
esac
[[ "$rate" =~ ^[1-9][0-9]*$ ]] || die "--rate must be a positive integer, got '$rate'"
port="${LEASEHOLD_PRESSURE_PG_PORT:-55441}"
[[ "$port" =~ ^[1-9][0-9]*$ ]] || die "bad LEASEHOLD_PRESSURE_PG_PORT '$port'"
lh_bin="$(realpath -m "${LEASEHOLD_PRESSURE_BIN:-build/leasehold}")"
read -r -a extra_args <<<"${LEASEHOLD_PRESSURE_NODE_ARGS:-}"
idle_conns=300 db=leasehold pgbin=/usr/lib/postgresql/15/bin
phases=(clean:none:"$clean_s"
        xmin_pin:xmin_pin:"$pin_s" after_xmin_pin:none:"$recover_s"
        rr_readers:rr_readers:"$fault_s" after_rr_readers:none:"$recover_s"
        terminate:terminate:"$fault_s" after_terminate:none:"$recover_s"
        idle_conns:idle_conns:"$fault_s" after_idle_conns:none:"$recover_s")
total_s=0
for p in "${phases[@]}"; do total_s=$(( total_s + ${p##*:} )); done

stamp="$(date -u +%Y-%m-%d)"
logs="$root/.leasehold/pressure/logs/$(date -u +%Y%m%dT%H%M%SZ)-$mode"
mkdir -p "$logs"
case "$mode" in
  full) out="${out:-benchmarks/results/pressure-$stamp}" ;;
  quick) out="${out:-benchmarks/results/pressure-$stamp-quick}" ;;
  smoke) out="${out:-$logs/pressure-smoke}" ;;
esac
mkdir -p "$(dirname "$out")"

# --- 1. leasehold and pgbench ---------------------------------------------------
if [ "${LEASEHOLD_PRESSURE_NO_BUILD:-0}" != 1 ]; then
  say "building leasehold (cmake --build build -j2 --target leasehold)"
  { [ "${LEASEHOLD_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh
    [ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j2 --target leasehold; } >"$logs/build.log" 2>&1 ||
    die "build failed: see $logs/build.log"
fi
[ -x "$lh_bin" ] || die "$lh_bin missing (build it, or set LEASEHOLD_PRESSURE_BIN)"
[ -x "$pgbin/pgbench" ] || die "$pgbin/pgbench missing (apt-get install postgresql-contrib)"

# --- 2. a private Postgres that allows the 300 idle connections ----------------
LEASEHOLD_PG_DIR="$root/.leasehold/pg-pressure$([ "$mode" = smoke ] && echo -smoke || true)"
export LEASEHOLD_PG_DIR LEASEHOLD_PG_PORT="$port" LEASEHOLD_PG_OPTIONS="-c max_connections=400"
bash scripts/pg-local.sh destroy

# shellcheck source=benchmarks/pressure/faults.sh
. benchmarks/pressure/faults.sh
node_pids=() gen_pid=""
cleanup() {
  local rc=$? p
  fault_stop 2>/dev/null || true
  for p in "${node_pids[@]}" $gen_pid; do kill -KILL "$p" 2>/dev/null || true; done
  bash "$root/scripts/pg-local.sh" stop || echo "bench-pressure: could not stop Postgres on port $port" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say "starting a fresh Postgres on port $port (${LEASEHOLD_PG_DIR#"$root"/}, max_connections=400)"
bash scripts/pg-local.sh start >/dev/null || die "Postgres did not start (scripts/pg-local.sh start)"
url="postgresql://postgres@127.0.0.1:$port/$db"
psqlx() { PGAPPNAME=pressure-script PGOPTIONS="-c client_min_messages=warning" \
  "$pgbin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"; }
"$lh_bin" --database-url "$url" migrate >"$logs/migrate.log" 2>&1 || die "migrate failed (see $logs/migrate.log)"

# The enqueuer's script: leasehold's single-job INSERT as the file has it, its
# parameters bound by pgbench (-M prepared): type and payload from -D, the
# rest NULL, which the statement turns into its defaults (queue, priority...).
sed -E -e 's/\$(1[01]|[3-9])/NULL/g; s/\$1/:jtype/g; s/\$2/:payload/g' persistence/sql/job_insert.sql >"$logs/enqueue.sql"
if ! grep -q ':payload::jsonb' "$logs/enqueue.sql" || grep -q '\$[0-9]' "$logs/enqueue.sql"; then
  die "persistence/sql/job_insert.sql has changed shape; update the sed in $0"
fi
# Every INSERT NOTIFYs (the jobs_notify_insert trigger), and Postgres serializes
# the commits of NOTIFYing transactions, WAL flush included: with synchronous
# commits one client-side INSERT per job tops out at 1 / fsync time (~300-370/s
# on the development VM). So by default the enqueuer's own sessions commit
# asynchronously (the nodes keep the default); LEASEHOLD_PRESSURE_ENQUEUE_SYNC=1
# measures the fully synchronous path.
enqueue_opts="-c synchronous_commit=off" enqueue_note="enqueuer sessions with synchronous_commit=off"
if [ "${LEASEHOLD_PRESSURE_ENQUEUE_SYNC:-0}" = 1 ]; then
  enqueue_opts="" enqueue_note="enqueuer sessions with synchronous_commit=on"
fi

# --- 3. what was run, on what ---------------------------------------------------
node_args=(node --concurrency 24)
[[ " ${LEASEHOLD_PRESSURE_NODE_ARGS:-} " == *" --http-listen"* ]] || node_args+=(--http-listen off)
node_args+=("${extra_args[@]}")
{
  printf 'date\t%s\n' "$(date -u +%FT%TZ)"
  printf 'machine\t%s CPUs (%s), %s MiB RAM, load average at start %s\n' "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)" "$(free -m | awk '/Mem:/{print $2}')" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'postgres\t%s, private cluster on 127.0.0.1:%s (max_connections=%s, shared_buffers=%s, synchronous_commit=%s)\n' \
    "$(psqlx -c 'SHOW server_version')" "$port" "$(psqlx -c 'SHOW max_connections')" \
    "$(psqlx -c 'SHOW shared_buffers')" "$(psqlx -c 'SHOW synchronous_commit')"
  printf 'leasehold\t%s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- actors persistence runtime messages 2>/dev/null || echo ' + uncommitted changes')"
  printf 'nodes\t2 x `leasehold %s`, started from the CLI\n' "${node_args[*]}"
  printf 'load\t%s jobs/s offered of `sleep` {"ms":1} (pgbench -R %s -c 8 -j 2 -M prepared, persistence/sql/job_insert.sql; %s)\n' "$rate" "$rate" "$enqueue_note"
  printf 'phases\t%s\n' "${phases[*]}"
  printf 'command\tscripts/bench-pressure.sh%s\n' "${orig_args[*]:+$(printf ' %q' "${orig_args[@]}")}"
} >"$logs/meta.tsv"

# --- 4. the nodes, the load, the phases ----------------------------------------
for k in 1 2; do
  "$lh_bin" --database-url "$url" "${node_args[@]}" >"$logs/node$k.out" 2>"$logs/node$k.err" &
  node_pids+=($!)
done
node_down=()  # "node K exited RC during PHASE"
check_nodes() {
  local k p rc
  for k in "${!node_pids[@]}"; do
    p="${node_pids[$k]}"
    [ "$p" = gone ] && continue
    kill -0 "$p" 2>/dev/null && continue
    wait "$p" && rc=0 || rc=$?
    node_pids[k]=gone
    node_down+=("node $(( k + 1 )) exited $rc during $1")
    say "WARNING: node $(( k + 1 )) (pid $p) exited $rc during $1: $(tail -n 1 "$logs/node$(( k + 1 )).err" | cut -c1-300)"
  done
}
for _ in $(seq 1 300); do
  [ "$(psqlx -c "SELECT count(*) FROM leasehold.worker_instances WHERE status = 'RUNNING'")" = 2 ] && break
  check_nodes startup
  [ ${#node_down[@]} = 0 ] || die "a node did not start (logs: $logs)"
  sleep 0.1
done
[ "$(psqlx -c "SELECT count(*) FROM leasehold.worker_instances WHERE status = 'RUNNING'")" = 2 ] ||
  die "the nodes were not RUNNING after 30 s (logs: $logs)"

warm_s=3
say "offering $rate jobs/s for ${warm_s} s of warm-up + $total_s s of phases"
PGAPPNAME=pressure-enqueue PGOPTIONS="$enqueue_opts" "$pgbin/pgbench" -n -M prepared -c 8 -j 2 -R "$rate" -T $(( warm_s + total_s + 1 )) \
  -D jtype=sleep -D payload='{"ms":1}' -f "$logs/enqueue.sql" -h 127.0.0.1 -p "$port" -U postgres "$db" \
  >"$logs/pgbench.out" 2>"$logs/pgbench.err" &
gen_pid=$!
sleep "$warm_s"
now_us() { echo "${EPOCHREALTIME/./}"; }
secs_of() { printf '%d.%06d' $(( $1 / 1000000 )) $(( $1 % 1000000 )); }
phase_lines=""
for p in "${phases[@]}"; do
  name="${p%%:*}" rest="${p#*:}" fault="${rest%%:*}" secs="${p##*:}"
  phase_log="$logs/phase-$name.log"
  : >"$phase_log"
  t0="$(now_us)" end=$(( t0 + secs * 1000000 ))
  say "phase $name ($secs s)"
  [ "$fault" = none ] || fault_start "$fault"
  while [ $(( end - $(now_us) )) -gt 200000 ]; do check_nodes "$name"; sleep 0.2; done
  left=$(( end - $(now_us) ))
  [ "$left" -le 0 ] || sleep "$(printf '0.%06d' "$left")"
  [ "$fault" = none ] || fault_stop
  t1="$(now_us)"
  phase_lines+="$name|$fault|$(secs_of "$t0")|$(secs_of "$t1")"$'\n'
done

# --- 5. the end: the rest drained, the nodes stopped, the checks ------------------
wait "$gen_pid" || die "pgbench failed (exit $?): $(tail -n 2 "$logs/pgbench.err") (log: $logs/pgbench.err)"
gen_pid=""
enqueued="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$logs/pgbench.out")"
[ -n "$enqueued" ] || die "no transaction count in $logs/pgbench.out"
say "pgbench enqueued $enqueued jobs; waiting for the queue to drain (at most 10 min)"
t0="$(now_us)"
for _ in $(seq 1 3000); do
  [ "$(psqlx -c "SELECT EXISTS (SELECT 1 FROM leasehold.jobs WHERE status IN ('queued', 'running'))")" = f ] && break
  check_nodes drain
  sleep 0.2
done
printf 'drain after the phases\t%s s from the end of the last phase until nothing was queued or running\n' \
  "$(( ($(now_us) - t0) / 1000000 ))" >>"$logs/meta.tsv"
say "stopping the nodes (SIGTERM)"
for p in "${node_pids[@]}"; do [ "$p" = gone ] || kill -TERM "$p" 2>/dev/null || true; done
for k in "${!node_pids[@]}"; do
  p="${node_pids[$k]}"; [ "$p" = gone ] && continue
  wait "$p" && rc=0 || rc=$?
  [ "$rc" = 0 ] || node_down+=("node $(( k + 1 )) exited $rc after SIGTERM")
done
node_pids=()
printf 'load average at end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$logs/meta.tsv"
say "reading the figures from the database (benchmarks/pressure/analyze.sql)"
PGAPPNAME=pressure-script "$pgbin/psql" -X -q --csv -h 127.0.0.1 -p "$port" -U postgres -d "$db" -v phases="$phase_lines" -v rate="$rate" -v clean=clean -v out_phases="$logs/phases.csv" \
  -v out_seconds="$logs/seconds.csv" -v out_check="$logs/check.csv" -f benchmarks/pressure/analyze.sql ||
  die "benchmarks/pressure/analyze.sql failed"
# The nodes log a line per job: keep every other line, and the count of those.
for f in "$logs"/node*.err; do
  grep -v '"msg":"job succeeded"' "$f" >"$f.kept" || true
  printf '(%s "job succeeded" lines dropped)\n' "$(grep -c '"msg":"job succeeded"' "$f" || true)" >>"$f.kept"
  rm -f "$f"
done
rc=0
python3 benchmarks/pressure/report.py "$logs" "$enqueued" "$out.md" "$out.csv" "${node_down[@]}" || rc=$?
bash scripts/pg-local.sh destroy
say "wrote $out.md and $out.csv (logs: ${logs#"$root"/})"
[ "$rc" = 0 ] || die "a check failed (see $out.md)"
