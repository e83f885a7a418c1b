#!/usr/bin/env bash
# Runs the leasehold-bench suite against a private, freshly created Postgres.
#   scripts/bench.sh --quick     every scenario at small sizes (under 3 minutes)
#   scripts/bench.sh             the full sizes (200k jobs, 1M depth/observer, 10k in flight)
#   scripts/bench.sh -- ARGS     one custom leasehold-bench invocation (BENCH_RUNS times)
# Writes benchmarks/results/<date>.json and <date>.png (gnuplot) for suite runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
command -v gnuplot >/dev/null || {
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
}
export LEASEHOLD_PG_DIR="$PWD/.leasehold/pg-bench" LEASEHOLD_PG_PORT="${LEASEHOLD_BENCH_PG_PORT:-55434}"
bash scripts/pg-local.sh destroy
trap 'bash scripts/pg-local.sh stop' EXIT
url="$(bash scripts/pg-local.sh start)"
bench=(build/leasehold-bench --database-url "$url" --reset --leasehold-bin build/leasehold)

if [ "${1:-}" = "--" ]; then
  shift
  for _ in $(seq 1 "${BENCH_RUNS:-3}"); do "${bench[@]}" "$@" 2>/dev/null; done
  exit 0
fi

if [ "${1:-}" = "--quick" ]; then
  sizes=(--samples 100 --depths 10000,100000 --in-flight 1000)
  jobs=20000 observer_jobs=100000
else
  sizes=(--samples 200 --depths 10000,100000,1000000 --in-flight 1000,10000)
  jobs=200000 observer_jobs=1000000
fi
mkdir -p benchmarks/results
stamp="$(date -u +%Y-%m-%d)"
out="benchmarks/results/$stamp.json"
lines="$(mktemp)"
"${bench[@]}" "${sizes[@]}" --jobs "$jobs" --scenario throughput,latency,depth,heartbeat,footprint \
  | tee "$lines"
"${bench[@]}" "${sizes[@]}" --jobs "$observer_jobs" --scenario observer | tee -a "$lines"
python3 - "$lines" "$out" "$*" <<'PY'
import json, platform, subprocess, sys, datetime
results = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
doc = {"date": datetime.datetime.utcnow().isoformat() + "Z", "mode": sys.argv[3] or "full",
       "machine": {"cpus": __import__("os").cpu_count(), "arch": platform.machine(),
                   "kernel": platform.release(), "postgres_client": pg},
       "results": results}
json.dump(doc, open(sys.argv[2], "w"), indent=2)
by = {r["scenario"]: r for r in results}
with open(sys.argv[1] + ".dat", "w") as f:
    lat = by["latency"]
    f.write('"drain jobs/s" %d\n' % by["throughput"]["drain_jobs_per_s"])
    f.write('"enqueue jobs/s" %d\n' % by["throughput"]["enqueue_jobs_per_s"])
    with open(sys.argv[1] + ".lat", "w") as g:
        for name in ("paced", "closed_loop"):
            g.write('"%s" %f %f\n' % (name.replace("_", "-"), lat[name]["p50_ms"], lat[name]["p99_ms"]))
PY
gnuplot <<GP
set terminal pngcairo size 1000,420 font ",10"
set output "benchmarks/results/$stamp.png"
set multiplot layout 1,2 title "leasehold-bench ${1:-full}, $stamp"
set style data histograms
set style fill solid 0.8
set boxwidth 0.7
set grid ytics
set yrange [0:*]
set title "throughput (jobs/s)"
plot "$lines.dat" using 2:xtic(1) notitle lc rgb "#4a7bd0"
set title "pickup latency (ms)"
set style histogram clustered
plot "$lines.lat" using 2:xtic(1) title "p50" lc rgb "#5cb85c", "" using 3 title "p99" lc rgb "#e57373"
unset multiplot
GP
rm -f "$lines" "$lines.dat" "$lines.lat"
echo "wrote $out and benchmarks/results/$stamp.png" >&2
