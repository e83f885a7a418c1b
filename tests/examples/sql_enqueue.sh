#!/usr/bin/env bash
# examples.sql_enqueue: runs examples/python/enqueue.py and examples/node/enqueue.mjs
# against $LEASEHOLD_TEST_DSN, checks what each left in the database, and that
# an idle `leasehold node` ($LEASEHOLD_TEST_BIN, --poll-interval 30s) runs each
# committed job within 3 s: only the NOTIFY sent on commit wakes it that soon.
# Exits non-zero at the first failed check. npm must reach its registry.
set -euo pipefail
cd "$(dirname "$0")/../.."
dsn="${LEASEHOLD_TEST_DSN:?set LEASEHOLD_TEST_DSN}"
bin="${LEASEHOLD_TEST_BIN:?set LEASEHOLD_TEST_BIN to the leasehold binary}"

fail() { echo "examples.sql_enqueue: FAIL: $*" >&2; exit 1; }
q() { psql "$dsn" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
expect() { # what, sql, wanted
  local got; got="$(q "$2")"
  [ "$got" = "$3" ] || fail "$1: expected '$3', got '$got'"
}

# pyenv and the like may shadow the python3 that has Debian's psycopg2.
py=""
for c in python3 /usr/bin/python3; do
  "$c" -c 'import psycopg2' 2>/dev/null && { py="$c"; break; }
done
[ -n "$py" ] || fail "no python3 with psycopg2 (apt-get install python3-psycopg2)"
nodedir="$(bash examples/node/install.sh)" || fail "cannot install the pg package from npm"

work="$(mktemp -d)"
node_pid=""
cleanup() {
  [ -z "$node_pid" ] || { kill "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null; } || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --database-url "$dsn" migrate >/dev/null
q "SET client_min_messages = warning;
   TRUNCATE leasehold.jobs, leasehold.job_runs, leasehold.policy_violations,
   leasehold.worker_instances, leasehold.runs, leasehold.unique_keys CASCADE;
   DROP TABLE IF EXISTS example_orders"

# The committed jobs' handler: appends its payload to a file.
printf '#!/bin/sh\ncat >>"%s"\necho >>"%s"\n' "$work/receipts" "$work/receipts" >"$work/receipt.sh"
chmod +x "$work/receipt.sh"
"$bin" --database-url "$dsn" node --poll-interval 30s --http-listen off \
  --exec "send_receipt=$work/receipt.sh" >"$work/node.log" 2>&1 &
node_pid=$!
# Ready once RUNNING and LISTENing; then past its first claim, so only a
# notification can wake it before 30 s.
for _ in $(seq 100); do
  [ "$(q "SELECT count(*) FROM leasehold.worker_instances WHERE pid = $node_pid
           AND status = 'RUNNING'")" = 1 ] \
    && [ "$(q "SELECT count(*) FROM pg_stat_activity
               WHERE query ILIKE 'LISTEN%leasehold_jobs%'")" -ge 1 ] && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.log" >&2; fail "leasehold node died"; }
  sleep 0.1
done
sleep 1

check() { # language, output of its example
  local lang="$1" out="$2" order job
  read -r order job < <(sed -n 's/^committed: order \([0-9]*\), job \([0-9]*\)$/\1 \2/p' <<<"$out") || true
  [ -n "${job:-}" ] || fail "$lang: no 'committed:' line in: $out"
  expect "$lang committed order" "SELECT item FROM example_orders WHERE id = $order" "lamp ($lang)"
  expect "$lang committed job" "SELECT type || ' ' || (payload->>'order') || ' ' ||
    (payload->>'from') FROM leasehold.all_jobs WHERE id = $job" "send_receipt $order $lang"

  order="" job=""
  read -r order job < <(sed -n 's/^rolled back: order \([0-9]*\), job \([0-9]*\) .*/\1 \2/p' <<<"$out") || true
  [ -n "${job:-}" ] || fail "$lang: no 'rolled back:' line in: $out"
  expect "$lang rolled-back order" "SELECT count(*) FROM example_orders WHERE id = $order" 0
  expect "$lang rolled-back job" "SELECT count(*) FROM leasehold.all_jobs WHERE id = $job" 0
  expect "$lang receipts" "SELECT count(*) FROM leasehold.all_jobs
    WHERE type = 'send_receipt' AND payload->>'from' = '$lang'" 1

  local first dup
  first="$(sed -n 's/^unique: job \([0-9]*\)$/\1/p' <<<"$out")"
  dup="$(sed -n 's/^duplicate of job \([0-9]*\)$/\1/p' <<<"$out")"
  [ -n "$first" ] && [ "$first" = "$dup" ] || fail "$lang: second enqueue not a duplicate of $first: $out"
  expect "$lang unique key" "SELECT string_agg(id::text, ',') FROM leasehold.all_jobs
    WHERE unique_key = 'stock-lamp-$lang'" "$first"

  local ids
  ids="$(sed -n 's/^enqueue_many: #[123] job \([0-9]*\) duplicate=[Ff]alse$/\1/p' <<<"$out" | paste -sd,)"
  expect "$lang enqueue_many" "SELECT string_agg(id || ':' || (payload->>'image') || ':' || priority,
    ',' ORDER BY id) FROM leasehold.all_jobs WHERE type = 'resize' AND payload->>'from' = '$lang'" \
    "$(awk -F, '{for (i = 1; i <= NF; i++) printf "%s%s:%d:%d", (i > 1 ? "," : ""), $i, i, i}' <<<"$ids")"
  [ "$(tr ',' '\n' <<<"$ids" | grep -c .)" = 3 ] || fail "$lang: enqueue_many printed: $out"
}

run_and_check() { # language, command...
  local lang="$1" out job; shift
  out="$("$@" "$dsn")" || fail "$lang example exited non-zero: $out"
  echo "$out"
  check "$lang" "$out"
  job="$(sed -n 's/^committed: order [0-9]*, job \([0-9]*\)$/\1/p' <<<"$out")"
  for _ in $(seq 30); do
    [ "$(q "SELECT status FROM leasehold.all_jobs WHERE id = $job")" = succeeded ] && break
    sleep 0.1
  done
  expect "$lang job run within 3 s of its commit (NOTIFY)" \
    "SELECT status FROM leasehold.all_jobs WHERE id = $job" succeeded
  grep -q "\"from\":\"$lang\"" "$work/receipts" || fail "$lang: handler did not get the payload"
}

run_and_check python "$py" examples/python/enqueue.py
run_and_check node node "$nodedir/enqueue.mjs"
kill -0 "$node_pid" || fail "leasehold node died"
echo "examples.sql_enqueue: ok"
