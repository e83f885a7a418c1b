#!/usr/bin/env bash
# Times `leasehold verify` on a big history in a private Postgres:
#   scripts/bench-verify.sh [JOBS] [RUNS_PER_JOB]   (default 1,000,000 x 5)
# Seeds benchmarks/verify_seed.sql, then runs verify three ways: the whole
# history, --since one hour ago (recent attempts only), and --json.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${1:-1000000}" per_job="${2:-5}"
bash scripts/build.sh >/dev/null
export LEASEHOLD_PG_DIR="$PWD/.leasehold/pg-bench-verify" LEASEHOLD_PG_PORT="${LEASEHOLD_BENCH_PG_PORT:-55435}"
bash scripts/pg-local.sh destroy
trap 'bash scripts/pg-local.sh stop' EXIT
url="$(bash scripts/pg-local.sh start)"
build/leasehold --database-url "$url" migrate >/dev/null
start=$(date +%s)
psql -q -X "$url" -v jobs="$jobs" -v runs_per_job="$per_job" -f benchmarks/verify_seed.sql >/dev/null
echo "seeded in $(( $(date +%s) - start ))s: $(psql -XAtq "$url" -c \
  "SELECT (SELECT count(*) FROM leasehold.all_jobs) || ' jobs, '
       || (SELECT count(*) FROM leasehold.job_runs) || ' job_runs rows, '
       || (SELECT count(*) FROM leasehold.runs) || ' runs'")"
time_it() {
  local label="$1"; shift
  for round in 1 2 3; do
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    build/leasehold --database-url "$url" verify "$@" >/tmp/bench-verify.out || rc=$?
    t1=$(date +%s.%N)
    printf '%-28s round %d: %6.2fs exit %d (%s)\n' "$label" "$round" \
      "$(echo "$t1 - $t0" | bc)" "$rc" "$(tail -1 /tmp/bench-verify.out)"
  done
}
time_it "verify (whole history)"
time_it "verify --since '1 hour ago'" --since "$(date -u -d '1 hour ago' +%FT%TZ)"
