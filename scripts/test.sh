#!/usr/bin/env bash
# The README's test command: install, build, start a private Postgres, run
# every test through ctest, stop Postgres. Extra arguments go to ctest
# (e.g. -R restart). LEASEHOLD_SKIP_INSTALL=1 skips the apt step.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
[ "${LEASEHOLD_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-console-tools.sh

# Its own cluster and port, so tests never touch the demo's database; tests
# that restart Postgres call pg-local.sh with LEASEHOLD_TEST_PG_DIR/PORT.
# (LEASEHOLD_TEST_PG_PORT may be preset, to run two checkouts side by side.)
export LEASEHOLD_PG_DIR="$PWD/.leasehold/pg-test"
export LEASEHOLD_PG_PORT="${LEASEHOLD_TEST_PG_PORT:-55433}"
bash scripts/pg-local.sh destroy # every run starts from an empty cluster

# Always stop Postgres, and exit with ctest's code rather than stop's.
cleanup() {
  local rc=$?
  bash scripts/pg-local.sh stop || true
  exit "$rc"
}
trap cleanup EXIT

LEASEHOLD_TEST_DSN="$(bash scripts/pg-local.sh start)"
export LEASEHOLD_TEST_DSN LEASEHOLD_TEST_PG_DIR="$LEASEHOLD_PG_DIR" \
  LEASEHOLD_TEST_PG_PORT="$LEASEHOLD_PG_PORT"
ctest --test-dir build --output-on-failure --timeout 600 "$@"
