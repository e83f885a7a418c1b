#!/usr/bin/env bash
# Installs what the console tests drive Chromium with (tests/console/package.json:
# puppeteer-core, which uses the system's /usr/bin/chromium and downloads no
# browser) into <repo>/.leasehold/console-tools, from the npm registry.
# Idempotent: returns at once when the pinned version is there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.leasehold/console-tools
mkdir -p "$dest"
if cmp -s tests/console/package.json "$dest/package.json" && [ -d "$dest/node_modules/puppeteer-core" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "install-console-tools: npm is missing (apt-get install npm)" >&2; exit 1; }
echo "install-console-tools: npm install of puppeteer-core into $dest" >&2
cp tests/console/package.json "$dest/package.json"
(cd "$dest" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error >/dev/null) || {
  echo "install-console-tools: npm install failed" >&2; exit 1; }
