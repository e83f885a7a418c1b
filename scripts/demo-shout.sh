#!/usr/bin/env bash
# Demo external-command handler: reads the JSON payload on stdin and prints
# its "text" in capitals; without a text it fails (exit 3) with a reason.
set -euo pipefail
text="$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("text", ""))')"
if [ -z "$text" ]; then
  echo "payload has no \"text\" to shout" >&2
  exit 3
fi
echo "${text^^}"
