#!/usr/bin/env bash
# leasehold side by side with graphile-worker 0.18.0 and pg-boss 12.38.0 (and the
# raw Postgres limit, pgbench), in ONE run against ONE private Postgres, systems
# interleaved over several rounds (order rotated each round, so drift of the
# machine spreads over all of them). See benchmarks/peers/README.md.
# The headline: N no-op jobs drained by 2 worker processes x 24 concurrent
# handlers each (`leasehold node --concurrency 24` started from the CLI;
# graphile-worker's perfTest, localQueue 500; pg-boss's counterpart), wall clock
# from starting the processes to the last completion. Then the same at 2 x 24
# with blocking 1 ms / 10 ms handlers and an external program per job.
#   scripts/bench-peers.sh --quick      2 rounds, 20k no-op jobs, small sizes (6-8 min)
#   scripts/bench-peers.sh              3 rounds, 100k no-op jobs (~30 min)
#   scripts/bench-peers.sh --smoke      1 round, 2,000 no-op jobs, tiny handler runs (ctest bench.peers_smoke)
#   --rounds N, --jobs N                override either mode (--jobs: the no-op drain)
#   --only LIST                         sections, of: drain,handlers,latency,raw,inprocess
#   --out PATH                          write PATH.md and PATH.csv instead
# Env: LEASEHOLD_PEERS_NODE_ARGS (more `leasehold node` flags), LEASEHOLD_PEERS_PG_PORT
# (55435; smoke 55436), LEASEHOLD_PEERS_BIN / _BENCH_BIN (build/leasehold, build/leasehold-bench),
# LEASEHOLD_PEERS_NO_BUILD=1, LEASEHOLD_PEERS_LH_ARGS (in-process section's leasehold-bench
# flags), LEASEHOLD_PEERS_CLIENTS, _PGBENCH_SECS, _SAMPLES, _TIMEOUT (s per step).
# Writes benchmarks/results/peers-<UTC date>[-quick].md and .csv (smoke: only under
# .leasehold/peers/logs); scratch (npm packages, node 22, logs, Postgres data) lives in .leasehold/.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
die() { echo "bench-peers: $*" >&2; exit 1; }
say() { printf 'bench-peers [%4ds] %s\n' "$SECONDS" "$*" >&2; }

mode=full rounds="" jobs="" only="" out=""
orig_args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --rounds) [ $# -ge 2 ] || die "--rounds needs a number"; rounds="$2"; shift ;;
    --rounds=*) rounds="${1#*=}" ;;
    --jobs) [ $# -ge 2 ] || die "--jobs needs a number"; jobs="$2"; shift ;;
    --jobs=*) jobs="${1#*=}" ;;
    --only) [ $# -ge 2 ] || die "--only needs a list"; only="$2"; shift ;;
    --only=*) only="${1#*=}" ;;
    --out) [ $# -ge 2 ] || die "--out needs a path"; out="$2"; shift ;;
    --out=*) out="${1#*=}" ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
declare -A h_jobs sections
case "$mode" in
  full)  rounds="${rounds:-3}" jobs="${jobs:-100000}" secs=20 samples=200 clients="4"
         h_jobs=([sleep1]=100000 [sleep10]=20000 [exec]=5000) inproc_jobs=200000
         only="${only:-drain,handlers,latency,raw,inprocess}" ;;
  quick) rounds="${rounds:-2}" jobs="${jobs:-20000}" secs=5 samples=100 clients="4"
         h_jobs=([sleep1]=20000 [sleep10]=5000 [exec]=1000) inproc_jobs=50000
         only="${only:-drain,handlers,latency,raw,inprocess}" ;;
  smoke) rounds="${rounds:-1}" jobs="${jobs:-2000}" secs=2 samples=10 clients="2"
         h_jobs=([sleep1]=1000 [sleep10]=500 [exec]=100) inproc_jobs=2000
         only="${only:-drain,handlers}" ;;
esac
h_jobs[noop]="$jobs"
for s in ${only//,/ }; do
  case "$s" in drain|handlers|latency|raw|inprocess) sections[$s]=1 ;;
    *) die "--only: unknown section '$s' (drain, handlers, latency, raw, inprocess)" ;; esac
done
secs="${LEASEHOLD_PEERS_PGBENCH_SECS:-$secs}"
samples="${LEASEHOLD_PEERS_SAMPLES:-$samples}"
clients="${LEASEHOLD_PEERS_CLIENTS:-$clients}"
node_args="${LEASEHOLD_PEERS_NODE_ARGS:-}"
# In-process secondary figure only: two nodes of 1,000 slots inside leasehold-bench.
lh_args="${LEASEHOLD_PEERS_LH_ARGS:---nodes 2 --concurrency 1000}"
port="${LEASEHOLD_PEERS_PG_PORT:-$([ "$mode" = smoke ] && echo 55436 || echo 55435)}"
step_timeout="${LEASEHOLD_PEERS_TIMEOUT:-1200}"
lh_bin="$(realpath -m "${LEASEHOLD_PEERS_BIN:-build/leasehold}")"
lh_bench_bin="$(realpath -m "${LEASEHOLD_PEERS_BENCH_BIN:-build/leasehold-bench}")"
for v in rounds jobs secs samples port step_timeout inproc_jobs; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
for c in $clients; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "bad pgbench client count '$c'"; done

peers="$root/.leasehold/peers"
stamp="$(date -u +%Y-%m-%d)"
logs="$peers/logs/$(date -u +%Y%m%dT%H%M%SZ)-$mode"
mkdir -p "$logs"
results="$logs/results.jsonl" meta="$logs/meta.tsv"
case "$mode" in   # a quick run never overwrites a full one; a smoke run writes only logs
  full) out="${out:-benchmarks/results/peers-$stamp}" ;;
  quick) out="${out:-benchmarks/results/peers-$stamp-quick}" ;;
  smoke) out="${out:-$logs/peers-smoke}" ;;
esac
mkdir -p "$(dirname "$out")"
pgbin=/usr/lib/postgresql/15/bin

# --- 1. leasehold, pgbench, the peers and node 22 ------------------------------
needs_bench=""; [ -n "${sections[latency]:-}${sections[inprocess]:-}" ] && needs_bench=1
if [ "${LEASEHOLD_PEERS_NO_BUILD:-0}" != 1 ]; then
  targets=(leasehold); [ -n "$needs_bench" ] && targets+=(leasehold-bench)
  say "building ${targets[*]} (cmake --build build -j2 --target ...)"
  { [ "${LEASEHOLD_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh
    # Configure only once: a new configure records the new git SHA in flags.make,
    # which recompiles every object of leasehold_core (minutes on 2 busy cores).
    [ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j2 --target "${targets[@]}"; } >"$logs/build.log" 2>&1 ||
    die "build failed: see $logs/build.log"
fi
[ -x "$lh_bin" ] || die "$lh_bin missing (build it, or set LEASEHOLD_PEERS_BIN)"
[ -z "$needs_bench" ] || [ -x "$lh_bench_bin" ] || die "$lh_bench_bin missing (needed by latency/inprocess)"
apt_install() {
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  say "apt-get install $*"
  "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}
if [ ! -x "$pgbin/psql" ] || { [ -n "${sections[raw]:-}" ] && [ ! -x "$pgbin/pgbench" ]; }; then
  apt_install postgresql-15 postgresql-client-15 postgresql-contrib
fi
systems=()
[ -n "${sections[raw]:-}" ] && systems+=(raw)
[ -n "${sections[drain]:-}${sections[handlers]:-}${sections[latency]:-}${sections[inprocess]:-}" ] && systems+=(leasehold)
[ -n "${sections[drain]:-}${sections[handlers]:-}${sections[latency]:-}" ] && systems+=(graphile pgboss)
[ ${#systems[@]} -gt 0 ] || die "--only: no section to run"
node22=""
if [ -n "${sections[drain]:-}${sections[handlers]:-}${sections[latency]:-}" ]; then
  command -v npm >/dev/null || { [ "$mode" = smoke ] || apt_install nodejs npm; }
  say "installing peers into .leasehold/peers (npm; the first time takes a minute or so)"
  if ! node22="$(bash benchmarks/peers/install.sh "$peers" 2>"$logs/install.log")"; then
    [ "$mode" = smoke ] || die "peer install failed: $(tail -n 1 "$logs/install.log")"
    say "WARNING: peer install failed ($(tail -n 1 "$logs/install.log")): smoke run without the peers"
    node22="" keep=()
    for s in "${systems[@]}"; do case "$s" in graphile|pgboss) ;; *) keep+=("$s") ;; esac; done
    systems=("${keep[@]}")
  fi
  # The drivers run from inside .leasehold/peers so that their imports resolve its node_modules.
  rm -rf "$peers/bench" && mkdir -p "$peers/bench"
  cp -r benchmarks/peers/lib benchmarks/peers/graphile benchmarks/peers/pgboss "$peers/bench/"
fi

# leasehold_claim_complete.sql copies two statements of leasehold: say when they have moved on.
for f in job_claim job_complete_success; do
  [ -n "${sections[raw]:-}" ] || break
  sum="$(sha256sum "persistence/sql/$f.sql" | cut -c1-12)"
  grep -q "persistence/sql/$f.sql *sha256 $sum" benchmarks/peers/leasehold_claim_complete.sql ||
    say "WARNING: persistence/sql/$f.sql changed since benchmarks/peers/leasehold_claim_complete.sql copied it; update that script"
done

# --- 2. one private Postgres, a database per system ----------------------------
export LEASEHOLD_PG_DIR="$root/.leasehold/pg-peers$([ "$mode" = smoke ] && echo -smoke)" LEASEHOLD_PG_PORT="$port"
export PEERS_PG_HOST=127.0.0.1 PEERS_PG_PORT="$port"
bash scripts/pg-local.sh destroy
trap 'bash "$root/scripts/pg-local.sh" stop || echo "bench-peers: could not stop Postgres on port $port" >&2' EXIT
trap 'exit 130' INT TERM
say "starting a fresh Postgres on port $port (${LEASEHOLD_PG_DIR#"$root"/})"
bash scripts/pg-local.sh start >/dev/null || die "Postgres did not start (scripts/pg-local.sh start)"
base="postgresql://postgres@127.0.0.1:$port"

# shellcheck source=benchmarks/peers/lib/rounds.sh
. benchmarks/peers/lib/rounds.sh
if [ -n "${sections[raw]:-}" ]; then
  for db in raw lh_raw; do psqlx postgres -c "CREATE DATABASE $db" || die "CREATE DATABASE $db failed"; done
  psqlx raw -f benchmarks/peers/raw/schema.sql || die "raw/schema.sql failed"
  "$lh_bin" --database-url "$base/lh_raw" migrate >/dev/null 2>&1 || die "leasehold migrate on lh_raw failed"
fi

# --- 3. what was run, on what --------------------------------------------------
pg_version="$(psqlx postgres -Atc 'SHOW server_version')"
h_list="$(for k in $(handler_keys); do printf '%s %s jobs, ' "$k" "${h_jobs[$k]}"; done)"
{
  printf 'date\t%s\n' "$(date -u +%FT%TZ)"
  printf 'machine\t%s CPUs (%s), %s MiB RAM, %s, load average at start %s\n' "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)" \
    "$(free -m | awk '/Mem:/{print $2}')" "$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'postgres\t%s, private cluster on 127.0.0.1:%s (max_connections=%s, shared_buffers=%s, fsync=%s, synchronous_commit=%s)\n' \
    "$pg_version" "$port" "$(psqlx postgres -Atc 'SHOW max_connections')" "$(psqlx postgres -Atc 'SHOW shared_buffers')" \
    "$(psqlx postgres -Atc 'SHOW fsync')" "$(psqlx postgres -Atc 'SHOW synchronous_commit')"
  printf 'leasehold\t%s (%s)\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')" \
    "$("$lh_bin" version 2>/dev/null | python3 -c 'import json,sys; v=json.load(sys.stdin); m=v["metadata"]; print(", ".join(["binary " + v["version"]] + [f"{k} {m[k]}" for k in ("compiler","caf","libpqxx") if k in m]))' 2>/dev/null || echo '?')"
  printf 'leasehold nodes\t2 x `leasehold node --concurrency 24%s%s`, started from the CLI (benchmarks/peers/leasehold/drain.sh)\n' \
    "$([[ " $node_args " == *" --http-listen"* ]] || echo ' --http-listen off')" "${node_args:+ $node_args}"
  if [ -n "$node22" ]; then
    printf 'peers\tgraphile-worker 0.18.0 (perfTest: 2 `--once` processes x concurrentJobs 24, localQueue 500, NO_LOG_SUCCESS=1); pg-boss 12.38.0 (2 processes, work() batchSize 100, localConcurrency 4, burstWhenBatchFull, at most 24 handlers at once per process; latency with LISTEN/NOTIFY); node %s\n' \
      "$("$node22" --version)"
  fi
  parts=("$mode mode: $rounds rounds" "sections $only" "${h_list%, }")
  [ -n "${sections[latency]:-}" ] && parts+=("$samples latency samples (paced every 50 ms, and closed loop)")
  [ -n "${sections[raw]:-}" ] && parts+=("pgbench $secs s per run with $clients clients")
  [ -n "${sections[inprocess]:-}" ] && parts+=("in-process: leasehold-bench $lh_args, $inproc_jobs jobs")
  printf 'run\t%s' "${parts[0]}"; printf '; %s' "${parts[@]:1}"; printf '\n'
  printf 'command\tscripts/bench-peers.sh%s (LEASEHOLD_PEERS_NODE_ARGS=%s)\n' "${orig_args[*]:+$(printf ' %q' "${orig_args[@]}")}" "${node_args:-none}"
} >"$meta"

# --- 4. the rounds ----------------------------------------------------------------
n=${#systems[@]}
for r in $(seq 1 "$rounds"); do
  for i in $(seq 0 $(( n - 1 ))); do
    s="${systems[$(( (r - 1 + i) % n ))]}"
    say "round $r/$rounds: $s"
    "${s}_round" "$r"
  done
done

printf 'load average at end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$meta"
python3 benchmarks/peers/summarize.py "$results" "$meta" "$out.md" "$out.csv" || die "summarize.py failed"
bash scripts/pg-local.sh destroy   # GBs of seeded rows; after a failure it is only stopped, for a look
echo
say "wrote $out.md and $out.csv (logs: ${logs#"$root"/})"
