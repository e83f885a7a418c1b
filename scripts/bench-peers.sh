#!/usr/bin/env bash
# leasehold side by side with the raw Postgres limit (pgbench), graphile-worker
# 0.18.0 and pg-boss 12.38.0, in ONE run against ONE private Postgres, systems
# interleaved over several rounds (order rotated each round, so drift of the
# machine spreads over all of them). See benchmarks/peers/README.md.
#   scripts/bench-peers.sh --quick      2 rounds, 50k jobs, 8 s pgbench runs, 100 samples (< 10 min)
#   scripts/bench-peers.sh              3 rounds, 200k jobs, 20 s pgbench runs, 200 samples
#   --rounds N, --jobs N                override either mode
# Env: LEASEHOLD_PEERS_PG_PORT (55435), LEASEHOLD_PEERS_LH_ARGS (leasehold-bench
# throughput flags), LEASEHOLD_PEERS_CLIENTS (pgbench clients, "4" quick / "2 4"),
# LEASEHOLD_PEERS_PGBENCH_SECS, LEASEHOLD_PEERS_SAMPLES, LEASEHOLD_PEERS_TIMEOUT (s per step).
# Writes benchmarks/results/peers-<UTC date>[-quick].md and .csv; scratch
# (npm packages, node 22, logs, Postgres data) lives in .leasehold/.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
die() { echo "bench-peers: $*" >&2; exit 1; }
say() { printf 'bench-peers [%4ds] %s\n' "$SECONDS" "$*" >&2; }

mode=full rounds="" jobs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --rounds) [ $# -ge 2 ] || die "--rounds needs a number"; rounds="$2"; shift ;;
    --rounds=*) rounds="${1#*=}" ;;
    --jobs) [ $# -ge 2 ] || die "--jobs needs a number"; jobs="$2"; shift ;;
    --jobs=*) jobs="${1#*=}" ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
if [ "$mode" = quick ]; then
  rounds="${rounds:-2}" jobs="${jobs:-50000}" secs=8 samples=100 clients="4"
else
  rounds="${rounds:-3}" jobs="${jobs:-200000}" secs=20 samples=200 clients="2 4"
fi
secs="${LEASEHOLD_PEERS_PGBENCH_SECS:-$secs}"
samples="${LEASEHOLD_PEERS_SAMPLES:-$samples}"
clients="${LEASEHOLD_PEERS_CLIENTS:-$clients}"
# Two nodes of 1,000 slots: with 1,000 to 2,000 slots a node claims and completes in
# batches of several hundred, as the peers' configurations do (localQueue 500, batch 100).
lh_args="${LEASEHOLD_PEERS_LH_ARGS:---nodes 2 --concurrency 1000}"
port="${LEASEHOLD_PEERS_PG_PORT:-55435}"
step_timeout="${LEASEHOLD_PEERS_TIMEOUT:-1200}"
for v in rounds jobs secs samples port step_timeout; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
for c in $clients; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "bad pgbench client count '$c'"; done

peers="$root/.leasehold/peers"
stamp="$(date -u +%Y-%m-%d)"
logs="$peers/logs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$logs" benchmarks/results
results="$logs/results.jsonl" meta="$logs/meta.tsv"
suffix=""; [ "$mode" = quick ] && suffix="-quick"   # a quick run never overwrites a full one
out="benchmarks/results/peers-$stamp$suffix"

# --- 1. leasehold, pgbench, the peers and node 22 ------------------------------
say "building leasehold (scripts/build.sh)"
# Only the two binaries are needed: when the full build stops on something else
# (a test being edited, say), building just them is enough to measure.
if ! bash scripts/build.sh >"$logs/build.log" 2>&1; then
  say "WARNING: scripts/build.sh failed (see ${logs#"$root"/}/build.log); building only leasehold and leasehold-bench"
  cmake --build build -j2 --target leasehold leasehold-bench >>"$logs/build.log" 2>&1 ||
    die "build of leasehold/leasehold-bench failed: see $logs/build.log"
fi
[ -x build/leasehold-bench ] || die "build/leasehold-bench missing after the build"
[ -x build/leasehold ] || die "build/leasehold missing after the build"
pgbin=/usr/lib/postgresql/15/bin
apt_install() {
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  say "apt-get install $*"
  "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}
if [ ! -x "$pgbin/pgbench" ] || [ ! -x "$pgbin/psql" ]; then
  apt_install postgresql-15 postgresql-client-15 postgresql-contrib
fi
command -v npm >/dev/null || apt_install nodejs npm
say "installing peers into .leasehold/peers (npm; the first time takes a minute or two)"
node22="$(bash benchmarks/peers/install.sh "$peers")" || die "peer install failed (benchmarks/peers/install.sh)"
# The drivers run from inside .leasehold/peers so that their imports resolve its node_modules.
rm -rf "$peers/bench" && mkdir -p "$peers/bench"
cp -r benchmarks/peers/lib benchmarks/peers/graphile benchmarks/peers/pgboss "$peers/bench/"

# leasehold_claim_complete.sql copies two statements of leasehold: say when they have moved on.
for f in job_claim job_complete_success; do
  sum="$(sha256sum "persistence/sql/$f.sql" | cut -c1-12)"
  grep -q "persistence/sql/$f.sql *sha256 $sum" benchmarks/peers/leasehold_claim_complete.sql ||
    say "WARNING: persistence/sql/$f.sql changed since benchmarks/peers/leasehold_claim_complete.sql copied it; update that script"
done

# --- 2. one private Postgres, a database per system ----------------------------
export LEASEHOLD_PG_DIR="$root/.leasehold/pg-peers" LEASEHOLD_PG_PORT="$port"
export PEERS_PG_HOST=127.0.0.1 PEERS_PG_PORT="$port"
bash scripts/pg-local.sh destroy
trap 'bash "$root/scripts/pg-local.sh" stop || echo "bench-peers: could not stop Postgres on port $port" >&2' EXIT
trap 'exit 130' INT TERM
say "starting a fresh Postgres on port $port (.leasehold/pg-peers)"
lh_url="$(bash scripts/pg-local.sh start)" || die "Postgres did not start (scripts/pg-local.sh start)"
base="postgresql://postgres@127.0.0.1:$port"
psqlx() { local db="$1"; shift; PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"; }
for db in raw lh_raw; do psqlx postgres -c "CREATE DATABASE $db" || die "CREATE DATABASE $db failed"; done
psqlx raw -f benchmarks/peers/raw/schema.sql || die "raw/schema.sql failed"
build/leasehold --database-url "$base/lh_raw" migrate >/dev/null 2>&1 || die "leasehold migrate on lh_raw failed"

# --- 3. the measurements; each appends JSON lines to $results --------------------
# record ROUND SYSTEM KIND CONFIG JSON: one result line, checked to be JSON.
record() {
  [ -n "$5" ] || exit 1   # the step that should have produced it has said why
  python3 -c 'import json,sys; json.loads(sys.argv[1])' "$5" 2>/dev/null || die "$2 $3: bad JSON result '$5'"
  printf '{"round": %s, "system": "%s", "kind": "%s", "config": "%s", "result": %s}\n' "$1" "$2" "$3" "$4" "$5" >>"$results"
}
# errline FILE: the line of a log that says what went wrong (else its last line).
errline() {
  { grep -E 'Error|error|ERROR|FATAL|failed|gave up' "$1" || tail -n 1 "$1"; } | tail -n 1 | cut -c1-300
}
# run LOG CMD...: a step with a time limit; stdout to LOG.out, stderr to LOG.err; prints the
# last JSON line of stdout. timeout signals the whole process group (driver children too).
run() {
  local log="$1"; shift
  timeout -k 10 "$step_timeout" "$@" >"$log.out" 2>"$log.err" ||
    die "'$*' failed (exit $?): $(errline "$log.err") (log: $log.err)"
  grep '^{' "$log.out" | tail -n 1 | grep . || die "'$*' printed no JSON result (log: $log.out)"
}

# Raw limit: each run starts from a freshly seeded queue (VACUUM ANALYZE, CHECKPOINT), big
# enough not to drain in $secs s; jobs/s = pgbench tx/s x batch. The database must show at
# least tx x batch jobs completed (job_runs rows for leasehold's script), else the script's
# completion matched nothing (a stale copy of leasehold's SQL, say) and the figure is void.
raw_round() {
  local r="$1" spec script batch db seed file rows done_sql c log tps tx ndone left
  for spec in ref_claim_complete:100 ref_claim_complete:500 ref_claim_delete:500 \
              lh_claim_complete:100 lh_claim_complete:500 lh_claim_complete:1000; do
    script="${spec%:*}" batch="${spec#*:}"
    rows=$(( secs * (batch >= 500 ? 150000 : 100000) ))
    case "$script" in
      ref_claim_complete) db=raw file=raw/claim_complete.sql seed=raw/seed.sql
        done_sql="SELECT count(*) FROM jobs WHERE status = 'succeeded'" ;;
      ref_claim_delete) db=raw file=raw/claim_delete.sql seed=raw/seed.sql
        done_sql="SELECT $rows - count(*) FROM jobs" ;;
      lh_claim_complete) db=lh_raw file=leasehold_claim_complete.sql seed=leasehold_seed.sql
        done_sql="SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'" ;;
    esac
    for c in $clients; do
      psqlx "$db" -v rows="$rows" -f "benchmarks/peers/$seed" >/dev/null || die "seeding $db failed"
      log="$logs/r$r-raw-$script-b$batch-c$c"
      # leasehold's own statements run as a node runs them: one generic plan each
      # (statement_plans::generic); the reference scripts keep Postgres's default.
      PGOPTIONS="$([ "$db" = lh_raw ] && echo "-c plan_cache_mode=force_generic_plan")" \
      timeout -k 10 "$step_timeout" "$pgbin/pgbench" -n -M prepared -c "$c" -j $(( c < 2 ? c : 2 )) \
        -T "$secs" -D n="$batch" -D cp=-32768 -D cr=-infinity -D ci=0 -f "benchmarks/peers/$file" -h 127.0.0.1 -p "$port" -U postgres "$db" \
        >"$log.out" 2>"$log.err" || die "pgbench $file failed: $(errline "$log.err") (log: $log.err)"
      tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log.out")"
      tx="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log.out")"
      if [ -z "$tps" ] || [ -z "$tx" ]; then die "no tps or transaction count in $log.out"; fi
      ndone="$(psqlx "$db" -Atc "$done_sql")"
      left="$(psqlx "$db" -Atc "SELECT count(*) FROM $([ "$db" = raw ] && echo jobs || echo leasehold.jobs) WHERE status = 'queued'")"
      if [ "$left" -eq 0 ]; then
        say "WARNING: $script b$batch c$c drained the queue: its figure is a lower bound"
      elif [ "$ndone" -lt $(( tx * batch )) ]; then
        die "$file: pgbench ran $tx transactions of $batch jobs but the database shows only $ndone completed"
      fi
      record "$r" raw pgbench "c$c" "$(python3 -c 'import json,sys; a=sys.argv; print(json.dumps({"script": a[1], "batch": int(a[2]), "clients": int(a[3]), "tps": float(a[4]), "jobs_per_s": float(a[4]) * int(a[2]), "tx": int(a[5]), "jobs_done_db": int(a[6]), "queued_left": int(a[7])}))' "$script" "$batch" "$c" "$tps" "$tx" "$ndone" "$left")"
      say "  raw $script batch $batch, $c clients: $(awk -v t="$tps" -v b="$batch" 'BEGIN { printf "%.0f", t * b }') jobs/s"
    done
  done
}

# Latency is measured on a quiet cluster for every system: the writes of the
# throughput run before it (and of pgbench's runs) are flushed first, and
# autovacuum of those tables is given up to a minute to finish, so neither
# lands in the middle of the samples. The peers' latency drivers start from a
# fresh database; leasehold's from emptied tables.
quiesce() {
  local i busy
  psqlx postgres -c CHECKPOINT || die "CHECKPOINT failed"
  for i in $(seq 1 120); do
    busy="$(psqlx postgres -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")"
    [ "$busy" = 0 ] && return 0
    sleep 0.5
  done
  say "  (autovacuum still busy after 60 s; measuring anyway)"
}

# leasehold-bench runs ANALYZE itself between its bulk enqueue and the drain (throughput_bench.cpp).
leasehold_round() {
  local r="$1" log="$logs/r$1-leasehold"
  # shellcheck disable=SC2086  # lh_args is a list of flags
  record "$r" leasehold throughput "$lh_args" \
    "$(run "$log-perf" build/leasehold-bench --database-url "$lh_url" --reset --scenario throughput \
         --jobs "$jobs" $lh_args)"
  quiesce
  record "$r" leasehold latency "pace 50ms" \
    "$(run "$log-lat" build/leasehold-bench --database-url "$lh_url" --reset --scenario latency \
         --samples "$samples" --pace-ms 50)"
}

# One peer's round: its throughput driver, then paced and closed-loop latency.
#   peer_round <round> <system> <throughput label> <latency label suffix> [VAR=value ...]
peer_round() {
  local r="$1" sys="$2" label="$3" lat_suffix="$4" log="$logs/r$1-$2" m
  shift 4
  cd "$peers/bench/$sys"
  # The command substitution is a subshell: the exported settings end with it.
  # shellcheck disable=SC2163  # "$@" holds VAR=value settings, exported as given
  record "$r" "$sys" throughput "$label" \
    "$(export JOBS="$jobs" "$@"; run "$log-perf" "$node22" perf.mjs)"
  for m in paced closed; do
    quiesce
    record "$r" "$sys" latency "$m$lat_suffix" \
      "$(LAT_MODE=$m LAT_SAMPLES="$samples" LAT_GAP_MS=50 run "$log-lat-$m" "$node22" latency.mjs)"
  done
  cd "$root"
}
graphile_round() {
  peer_round "$1" graphile "${GW_PARALLELISM:-4}x24 lq500" "" GW_PARALLELISM="${GW_PARALLELISM:-4}"
}
pgboss_round() {
  peer_round "$1" pgboss "${PB_PROCS:-2}p b100 lc4 burst" " notify" PB_PROCS="${PB_PROCS:-2}"
}

pg_version="$(psqlx postgres -Atc 'SHOW server_version')"
{
  printf 'date\t%s\n' "$(date -u +%FT%TZ)"
  printf 'machine\t%s CPUs (%s), %s MiB RAM, %s\n' "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)" \
    "$(free -m | awk '/Mem:/{print $2}')" "$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)"
  printf 'postgres\t%s, private cluster on 127.0.0.1:%s (max_connections=%s, shared_buffers=%s, fsync=%s, synchronous_commit=%s)\n' \
    "$pg_version" "$port" "$(psqlx postgres -Atc 'SHOW max_connections')" "$(psqlx postgres -Atc 'SHOW shared_buffers')" \
    "$(psqlx postgres -Atc 'SHOW fsync')" "$(psqlx postgres -Atc 'SHOW synchronous_commit')"
  printf 'leasehold\t%s (build/leasehold-bench %s)\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')" "$lh_args"
  printf 'peers\tgraphile-worker 0.18.0 (%s x concurrentJobs 24, localQueue 500), pg-boss 12.38.0 (%s processes, batchSize 100, localConcurrency 4, burstWhenBatchFull; latency with LISTEN/NOTIFY), node %s\n' \
    "${GW_PARALLELISM:-4}" "${PB_PROCS:-2}" "$("$node22" --version)"
  printf 'run\t%s mode: %s rounds, %s jobs per throughput run, %s latency samples (paced every 50 ms; closed loop), pgbench %s s per run with %s clients\n' \
    "$mode" "$rounds" "$jobs" "$samples" "$secs" "$clients"
} >"$meta"

systems=(raw leasehold graphile pgboss)
for r in $(seq 1 "$rounds"); do
  for i in 0 1 2 3; do
    s="${systems[$(( (r - 1 + i) % 4 ))]}"
    say "round $r/$rounds: $s"
    "${s}_round" "$r"
  done
done

python3 benchmarks/peers/summarize.py "$results" "$meta" "$out.md" "$out.csv" || die "summarize.py failed"
bash scripts/pg-local.sh destroy   # GBs of seeded rows; after a failure it is only stopped, for a look
echo
say "wrote $out.md and $out.csv (logs: ${logs#"$root"/})"
