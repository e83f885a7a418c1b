#!/usr/bin/env bash
# A chaos run against real leasehold nodes (tests/chaos/chaos.py):
#   scripts/chaos.sh [--minutes N] [--nodes K] [--seed S] [--json-out FILE]
# K nodes (default 3), each behind its own fault proxy, a steady stream of
# mixed jobs, faults at seeded random intervals; afterwards it checks that
# nothing was lost, verify is clean and the ledgers match. Exit 0 = passed.
# Runs on its own private Postgres, or, when LEASEHOLD_TEST_DSN is set (the
# ctest smoke run), on the test cluster, which it empties first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${LEASEHOLD_CHAOS_NO_BUILD:-}" ] || bash scripts/build.sh >/dev/null
if [ -n "${LEASEHOLD_TEST_DSN:-}" ]; then
  url="$LEASEHOLD_TEST_DSN" pg_dir="$LEASEHOLD_TEST_PG_DIR" port="$LEASEHOLD_TEST_PG_PORT"
else
  export LEASEHOLD_PG_DIR="$PWD/.leasehold/pg-chaos" LEASEHOLD_PG_PORT="${LEASEHOLD_CHAOS_PG_PORT:-55437}"
  bash scripts/pg-local.sh destroy
  trap 'bash scripts/pg-local.sh stop' EXIT
  url="$(bash scripts/pg-local.sh start)" pg_dir="$LEASEHOLD_PG_DIR" port="$LEASEHOLD_PG_PORT"
fi
build/leasehold --database-url "$url" migrate >/dev/null
psql -XAtq "$url" -c "TRUNCATE leasehold.jobs, leasehold.job_runs, leasehold.runs,
  leasehold.worker_instances, leasehold.policy_violations RESTART IDENTITY CASCADE" >/dev/null
workdir="$(mktemp -d /tmp/leasehold-chaos.XXXXXX)"
echo "chaos: logs and ledgers in $workdir" >&2
python3 tests/chaos/chaos.py --database-url "$url" --pg-dir "$pg_dir" --pg-port "$port" \
  --bin "$PWD/build/leasehold" --proxy-bin "$PWD/build/tests/leasehold-fault-proxy" \
  --workdir "$workdir" --root "$PWD" "$@"
