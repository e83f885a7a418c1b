#!/usr/bin/env bash
# The README's first command: build, start a local Postgres, run a node on a
# mix of jobs (one fails into dead, one has an unknown type, one runs an
# external program, a thousand come in bulk) and print how each ended.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
export DATABASE_URL="$(bash scripts/pg-local.sh start)"
lh=build/leasehold
log=.leasehold/demo-node.log
$lh migrate

echo "== enqueueing"
ids=()
ids+=("$($lh enqueue noop)")
ids+=("$($lh enqueue sleep --payload '{"ms":500}')")
ids+=("$($lh enqueue fail --payload '{"message":"disk full"}' --max-attempts 3)")
ids+=("$($lh enqueue no_such_type)")
ids+=("$($lh enqueue shout --payload '{"text":"hello leasehold"}')")
ids+=("$($lh enqueue shout --payload '{"volume":11}' --max-attempts 1)")
bulk="$(mktemp)"
for i in $(seq 1 1000); do echo "{\"type\":\"noop\",\"payload\":{\"i\":$i}}"; done >"$bulk"
bulk_out="$($lh enqueue --file "$bulk")"
echo "$bulk_out"
rm -f "$bulk"
first="$(echo "$bulk_out" | sed -E 's/.*ids ([0-9]+)\.\.([0-9]+).*/\1/')"
last="$(echo "$bulk_out" | sed -E 's/.*ids ([0-9]+)\.\.([0-9]+).*/\2/')"

echo "== running a node (JSON logs in $log)"
$lh node --concurrency 8 --heartbeat-interval 1s --lease-ttl 5s --retry-base 200ms \
  --exec "shout=$PWD/scripts/demo-shout.sh" 2>"$log" &
node_pid=$!
trap 'kill $node_pid 2>/dev/null || true' EXIT

finished() {
  for id in "${ids[@]}"; do
    $lh job "$id" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["status"] in ("succeeded","failed","cancelled") else 1)' || return 1
  done
}
for _ in $(seq 1 120); do finished && break; sleep 0.5; done

echo "== outcomes"
printf '%-5s %-14s %-10s %-8s %-22s %s\n' ID TYPE STATUS ATTEMPTS ERROR_CODE LAST_ERROR
for id in "${ids[@]}"; do
  $lh job "$id" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("%-5s %-14s %-10s %-8s %-22s %s" % (j["id"], j["type"], j["status"], j["attempts"],
      j["last_error_code"] or "-", j["last_error"] or "-"))'
done
psql -qtA "$DATABASE_URL" -c "SELECT 'bulk: ' || count(*) FILTER (WHERE status = 'succeeded')
  || ' of ' || count(*) || ' bulk noop jobs succeeded' FROM leasehold.jobs
  WHERE id BETWEEN $first AND $last"

kill -TERM $node_pid
wait $node_pid || true
trap - EXIT
echo "== the dead job, with every attempt"
$lh job "${ids[2]}"
echo
echo "Node log: $log.  Postgres keeps running: scripts/pg-local.sh stop"
finished || { echo "some jobs did not finish in time" >&2; exit 1; }
