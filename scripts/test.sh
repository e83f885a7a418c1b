#!/usr/bin/env bash
# The README's test command: install, build, start a private Postgres, run
# every test through ctest, stop Postgres. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh

export LEASEHOLD_PG_DIR="$PWD/.leasehold/pg-test" LEASEHOLD_PG_PORT=55433
# Every run starts from an empty cluster.
bash scripts/pg-local.sh destroy
trap 'bash scripts/pg-local.sh stop' EXIT
LEASEHOLD_TEST_DSN="$(bash scripts/pg-local.sh start)"
export LEASEHOLD_TEST_DSN LEASEHOLD_TEST_PG_DIR="$LEASEHOLD_PG_DIR" \
  LEASEHOLD_TEST_PG_PORT="$LEASEHOLD_PG_PORT"
ctest --test-dir build --output-on-failure --timeout 600 "$@"
