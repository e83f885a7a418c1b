#!/usr/bin/env bash
# Installs the pinned `pg` package (package.json) from the npm registry into
# $1 (default <repo>/.leasehold/examples-node), copies enqueue.mjs next to its
# node_modules so that the import resolves, and prints that directory.
# Idempotent: when pg is already there it only refreshes the copy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-$here/../../.leasehold/examples-node}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

command -v npm >/dev/null || {
  echo "examples/node: npm is missing (apt-get install npm)" >&2; exit 1; }
if ! cmp -s "$here/package.json" "$dest/package.json" || [ ! -d "$dest/node_modules/pg" ]; then
  echo "examples/node: npm install of pg into $dest" >&2
  cp "$here/package.json" "$dest/package.json"
  (cd "$dest" && npm install --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "examples/node: npm install of pg failed (is the npm registry reachable?)" >&2
    exit 1; }
fi
cp "$here/enqueue.mjs" "$dest/enqueue.mjs"
echo "$dest"
