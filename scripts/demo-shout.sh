#!/usr/bin/env bash
# Demo external-command handler (leasehold node --exec shout=...): reads the
# job's JSON payload on stdin and prints its "text" in capitals. Without a
# text it fails with exit 3 and says why on stderr (the node records both).
set -euo pipefail
exec python3 -c '
import json, sys

def fail(why):
    print(why, file=sys.stderr)
    sys.exit(3)

try:
    payload = json.load(sys.stdin)
except ValueError as e:
    fail("payload is not JSON: %s" % e)
text = payload.get("text") if isinstance(payload, dict) else None
if not isinstance(text, str) or not text:
    fail("payload has no \"text\" to shout")
print(text.upper())
'
