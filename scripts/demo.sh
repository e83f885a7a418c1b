#!/usr/bin/env bash
# The README's first command: build, start a local Postgres, run a node on a
# mix of jobs (one fails into dead, one runs an external program, a thousand
# come in bulk, one has a type no node serves: it waits, and /health says so)
# and print how each ended; a unique key enqueued twice; a schedule ticking
# every second while the node runs.
# Postgres keeps running afterwards; scripts/pg-local.sh stop stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
DATABASE_URL="$(bash scripts/pg-local.sh start)"
export DATABASE_URL
lh=build/leasehold
log=.leasehold/demo-node.log
$lh migrate

echo "== enqueueing (each enqueue prints the new job's id)"
ids=()
ids+=("$($lh enqueue noop)")
ids+=("$($lh enqueue sleep --payload '{"ms":500}')")
fail_id="$($lh enqueue fail --payload '{"message":"disk full"}' --max-attempts 3)"
ids+=("$fail_id")
unserved_id="$($lh enqueue no_such_type)"
ids+=("$($lh enqueue shout --payload '{"text":"hello leasehold"}')")
ids+=("$($lh enqueue shout --payload '{"volume":11}' --max-attempts 1)")
bulk="$(mktemp)"
for i in $(seq 1 1000); do echo "{\"type\":\"noop\",\"payload\":{\"i\":$i}}"; done >"$bulk"
bulk_out="$($lh enqueue --file "$bulk")"
rm -f "$bulk"
echo "ids: ${ids[*]} $unserved_id"
echo "$bulk_out"
echo "== a unique key: the second enqueue is a duplicate and prints the first job's id"
$lh enqueue noop --payload '{"report":7}' --unique-key demo-report-7
$lh enqueue noop --payload '{"report":7}' --unique-key demo-report-7
echo "== a schedule: a noop job every second while the node runs"
$lh schedule remove demo-tick >/dev/null 2>&1 || true
$lh schedule add demo-tick --cron '@every 1s' --type noop --payload '{"tick":true}'

echo "== running a node (JSON logs in $log)"
$lh node --concurrency 8 --heartbeat-interval 1s --lease-ttl 5s --retry-base 200ms \
  --exec "shout=$PWD/scripts/demo-shout.sh" >"$log" 2>&1 &
node_pid=$!
trap 'kill "$node_pid" 2>/dev/null || true' EXIT

# status_of ID prints the job's status; finished is true once every job is
# succeeded, failed or cancelled.
status_of() { $lh job "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
finished() {
  local id
  for id in "${ids[@]}"; do
    case "$(status_of "$id")" in succeeded | failed | cancelled) ;; *) return 1 ;; esac
  done
}
done_in_time=0
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
  if finished; then done_in_time=1; break; fi
  kill -0 "$node_pid" 2>/dev/null || { echo "the node exited early; see $log" >&2; break; }
  sleep 0.5
done

echo "== outcomes"
printf '%-5s %-13s %-10s %-8s %-22s %s\n' ID TYPE STATUS ATTEMPTS ERROR_CODE LAST_ERROR
for id in "${ids[@]}"; do
  $lh job "$id" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("%-5s %-13s %-10s %-8s %-22s %s" % (j["id"], j["type"], j["status"], j["attempts"],
      j["last_error_code"] or "-", j["last_error"] or "-"))'
done
$lh job "$unserved_id" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("%-5s %-13s %-10s %-8s %-22s %s" % (j["id"], j["type"], j["status"], j["attempts"], "-",
      "waits for a node that serves its type"))'
$lh health | grep UNSERVED_TYPE || true
$lh schedule list
# The bulk jobs, counted in one query (enqueue --file prints "ids A..B").
if [[ "$bulk_out" =~ ids\ ([0-9]+)\.\.([0-9]+) ]]; then
  psql -X -qtA "$DATABASE_URL" -c "SELECT 'bulk: ' || count(*) FILTER (WHERE status = 'succeeded')
    || ' of ' || count(*) || ' noop jobs succeeded' FROM leasehold.all_jobs
    WHERE id BETWEEN ${BASH_REMATCH[1]} AND ${BASH_REMATCH[2]}"
fi

kill -TERM "$node_pid" 2>/dev/null || true
wait "$node_pid" || true
trap - EXIT
echo "== the failing job, dead after 3 attempts: build/leasehold job $fail_id"
$lh job "$fail_id"
echo
echo "Node log: $log"
echo "Postgres is still running at $DATABASE_URL (scripts/pg-local.sh stop stops it)."
[ "$done_in_time" = 1 ] || { echo "some jobs did not reach a final state within 60 s" >&2; exit 1; }
