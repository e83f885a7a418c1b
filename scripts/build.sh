#!/usr/bin/env bash
# Installs dependencies (unless LEASEHOLD_SKIP_INSTALL=1) and builds into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${LEASEHOLD_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2
