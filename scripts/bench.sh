#!/usr/bin/env bash
# Runs leasehold-bench against a private, freshly created Postgres and prints
# one JSON line per run. Arguments go to leasehold-bench (e.g. --jobs 10000
# --concurrency 50 --nodes 2). BENCH_RUNS (default 3) repeats the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
export LEASEHOLD_PG_DIR="$PWD/.leasehold/pg-bench" LEASEHOLD_PG_PORT=55434
bash scripts/pg-local.sh destroy
trap 'bash scripts/pg-local.sh stop' EXIT
url="$(bash scripts/pg-local.sh start)"
for _ in $(seq 1 "${BENCH_RUNS:-3}"); do
  build/leasehold-bench --database-url "$url" --reset "$@" 2>/dev/null
done
