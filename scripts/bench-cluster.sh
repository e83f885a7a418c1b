#!/usr/bin/env bash
# The cluster view and instant cancel with N `leasehold node` processes on
# this machine (issue 21), on a private Postgres: time to a full mesh, GET
# /cluster latency, cancel latency (HTTP reply on one node to the handler's
# end on the owner), and each node's idle CPU and memory with links on and
# off. The driver is benchmarks/cluster/cluster_bench.py.
#   scripts/bench-cluster.sh           8 nodes, 200 views, 50 cancels, 20 s idle (~2 min)
#   scripts/bench-cluster.sh --smoke   3 nodes, 20 views, 5 cancels, 2 s idle (~30 s)
# Env: LEASEHOLD_CLUSTER_PG_PORT (55474), LEASEHOLD_CLUSTER_BIN (build/leasehold),
# LEASEHOLD_CLUSTER_NO_BUILD=1. Writes benchmarks/results/cluster-<UTC date>.json
# (smoke: only under .leasehold/cluster/logs).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
die() { echo "bench-cluster: $*" >&2; exit 1; }
say() { printf 'bench-cluster [%4ds] %s\n' "$SECONDS" "$*" >&2; }
mode=full
case "${1:-}" in
  --smoke) mode=smoke ;;
  "") ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac
if [ "$mode" = smoke ]; then nodes=3 samples=20 cancels=5 idle=2; else nodes=8 samples=200 cancels=50 idle=20; fi
port="${LEASEHOLD_CLUSTER_PG_PORT:-55474}"
lh_bin="$(realpath -m "${LEASEHOLD_CLUSTER_BIN:-build/leasehold}")"
logs="$root/.leasehold/cluster/logs/$(date -u +%Y%m%dT%H%M%SZ)-$mode"
mkdir -p "$logs"
if [ "${LEASEHOLD_CLUSTER_NO_BUILD:-0}" != 1 ]; then
  say "building leasehold"
  { [ "${LEASEHOLD_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh
    [ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j2 --target leasehold; } >"$logs/build.log" 2>&1 ||
    die "build failed: see $logs/build.log"
fi
[ -x "$lh_bin" ] || die "$lh_bin missing (build it, or set LEASEHOLD_CLUSTER_BIN)"
export LEASEHOLD_PG_DIR="$root/.leasehold/pg-cluster-$mode" LEASEHOLD_PG_PORT="$port"
bash scripts/pg-local.sh destroy
trap 'pkill -f -- "--execution-ledger $logs/" || true; bash "$root/scripts/pg-local.sh" stop >/dev/null || true' EXIT
say "starting a fresh Postgres on port $port"
bash scripts/pg-local.sh start >/dev/null || die "Postgres did not start"
dsn="postgresql://postgres@127.0.0.1:$port/leasehold"
"$lh_bin" --database-url "$dsn" migrate >"$logs/migrate.log" 2>&1 || die "migrate failed (see $logs/migrate.log)"
say "$nodes nodes: mesh, $samples views, $cancels cancels, ${idle}s idle with links on and off"
LH_BIN="$lh_bin" LH_DSN="$dsn" LH_NODES="$nodes" LH_SAMPLES="$samples" LH_CANCELS="$cancels" \
  LH_IDLE_S="$idle" LH_LOGS="$logs" timeout -k 10 600 python3 benchmarks/cluster/cluster_bench.py \
  >"$logs/result.json" 2>"$logs/driver.err" || die "driver failed: $(tail -n 3 "$logs/driver.err")"
meta="{\"date\":\"$(date -u +%FT%TZ)\",\"machine\":\"$(nproc) CPUs, $(free -m | awk '/Mem:/{print $2}') MiB, load $(cut -d' ' -f1-3 /proc/loadavg)\",\"leasehold\":\"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\",\"mode\":\"$mode\"}"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r.update(json.loads(sys.argv[2])); print(json.dumps(r, indent=1))" \
  "$logs/result.json" "$meta" | tee "$logs/cluster.json"
if [ "$mode" = full ]; then
  mkdir -p benchmarks/results
  cp "$logs/cluster.json" "benchmarks/results/cluster-$(date -u +%Y-%m-%d).json"
fi
