#!/usr/bin/env bash
# leasehold drained as users run it (issue 18): JOBS jobs bulk enqueued with
# `leasehold enqueue --file`, then LH_NODES separate `leasehold node`
# processes started from the CLI with --concurrency LH_CONCURRENCY, timed from
# starting them until the last job is completed, the way graphile-worker's
# perfTest takes jobs_per_s_wall (from starting its `--once` processes until
# they have all exited, i.e. the queue is empty). A node has no `--once`, so
# the end is seen by polling the database every POLL_MS ms over one open psql
# session: the first poll that finds no job queued or running stops the clock.
# Then the nodes get SIGTERM and must exit 0.
#
#   fresh database -> migrate -> startup: one node on the empty queue, from
#   its start until its registration is RUNNING, then SIGTERM until it exits
#   -> JOBS jobs in one `enqueue --file` (timed; includes the CLI's start)
#   -> ANALYZE, CHECKPOINT -> start the nodes -> poll -> SIGTERM -> checks:
#   every job has one succeeded run in job_runs and leasehold.jobs is empty.
#
# Prints one JSON line. Env: LH_BIN (build/leasehold), LH_DB_BASE
# (postgresql://postgres@127.0.0.1:$PEERS_PG_PORT), LH_DB (lh_drain), JOBS
# (100000), LH_NODES (2), LH_CONCURRENCY (24), LH_HANDLER (noop | sleep |
# exec), LH_SLEEP_MS (for sleep), LH_EXEC_PROGRAM (/bin/true, for exec),
# LH_NODE_ARGS (more `node` flags), LH_QUEUE_LIMIT (the queue's cluster-wide
# concurrency limit; none), LH_KEYS (jobs get concurrency keys k0..k<N-1> in
# turn; none) with LH_PER_KEY (the queue's per-key limit; 1), LH_LOG_DIR (node logs; default a temp
# dir), POLL_MS (10), DRIVER_TIMEOUT_S (900), LH_DB_TEMPLATE (a database to
# copy instead of an empty one, e.g. one holding history: scripts/bench-history.sh;
# the checks count only the jobs enqueued here).
set -euo pipefail
export LC_ALL=C   # EPOCHREALTIME and awk print numbers with a dot
die() { echo "leasehold drain: $*" >&2; exit 1; }
pgbin=/usr/lib/postgresql/15/bin
bin="${LH_BIN:-build/leasehold}"
base="${LH_DB_BASE:-postgresql://postgres@127.0.0.1:${PEERS_PG_PORT:-55435}}"
db="${LH_DB:-lh_drain}" url="$base/$db"
jobs="${JOBS:-100000}" nodes="${LH_NODES:-2}" conc="${LH_CONCURRENCY:-24}"
handler="${LH_HANDLER:-noop}" sleep_ms="${LH_SLEEP_MS:-1}"
program="${LH_EXEC_PROGRAM:-/bin/true}" poll_ms="${POLL_MS:-10}"
limit_s="${DRIVER_TIMEOUT_S:-900}"
logdir="${LH_LOG_DIR:-$(mktemp -d /tmp/leasehold-drain.XXXXXX)}"
mkdir -p "$logdir"
for v in jobs nodes conc sleep_ms poll_ms limit_s; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
[ -x "$bin" ] || die "$bin is not an executable (set LH_BIN)"
[[ "${LH_DB_TEMPLATE:-x}" =~ ^[a-z_][a-z0-9_]*$ ]] || die "LH_DB_TEMPLATE must be a plain database name"
read -r -a extra <<<"${LH_NODE_ARGS:-}"
node_args=(node --concurrency "$conc")
# Two nodes on one host cannot both take the default 127.0.0.1:8080.
[[ " ${LH_NODE_ARGS:-} " == *" --http-listen"* ]] || node_args+=(--http-listen off)
case "$handler" in
  noop) type=noop payload='{"id":%d}' ;;
  sleep) type=sleep payload="{\"id\":%d,\"ms\":$sleep_ms}" ;;
  exec) [ -x "$program" ] || die "$program is not an executable"
    type=bench_exec payload='{"id":%d}' node_args+=(--exec "bench_exec=$program") ;;
  *) die "LH_HANDLER must be noop, sleep or exec, not '$handler'" ;;
esac
node_args+=("${extra[@]}")

psqlx() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { echo $(( ($(now_us) - $1) / 1000 )); }
# A sleep without a fork per poll: wait on a pipe nobody writes.
exec {napfd}<> <(:)
nap() { read -r -t "$1" -u "$napfd" || true; }

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
start_nodes() {  # start_nodes COUNT LOGPREFIX
  local k
  pids=()
  for k in $(seq 1 "$1"); do
    "$bin" --database-url "$url" "${node_args[@]}" >"$2$k.out" 2>"$2$k.err" &
    pids+=($!)
  done
}
stop_nodes() {  # SIGTERM, then every node must exit 0
  local p rc=0
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" || rc=$?; done
  pids=()
  [ "$rc" = 0 ] || die "a node exited $rc after SIGTERM (logs: $logdir)"
}
check_alive() {
  local p
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null && continue
    wait "$p" && rc=0 || rc=$?
    die "a node exited $rc before the queue was drained: $(tail -n 1 "$logdir"/node*.err | cut -c1-300) (logs: $logdir)"
  done
}

create="CREATE DATABASE $db"
[ -z "${LH_DB_TEMPLATE:-}" ] || create+=" TEMPLATE ${LH_DB_TEMPLATE} STRATEGY FILE_COPY"
psqlx "$base/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "$create" \
  || die "could not create database $db"
"$bin" --database-url "$url" migrate >"$logdir/migrate.log" 2>&1 || die "migrate failed (see $logdir/migrate.log)"
# LH_QUEUE_LIMIT=N: the queue's cluster-wide concurrency limit (issue 20).
if [ -n "${LH_QUEUE_LIMIT:-}" ]; then
  [[ "$LH_QUEUE_LIMIT" =~ ^[0-9]+$ ]] || die "LH_QUEUE_LIMIT must be a whole number"
  "$bin" --database-url "$url" queue limit default --concurrency "$LH_QUEUE_LIMIT" \
    >>"$logdir/migrate.log" 2>&1 || die "queue limit failed (see $logdir/migrate.log)"
fi
# LH_KEYS=N: concurrency keys (issue 20), LH_PER_KEY a key's limit.
keys="${LH_KEYS:-0}"
[[ "$keys" =~ ^[0-9]+$ ]] || die "LH_KEYS must be a whole number"
if [ "$keys" -gt 0 ] && [ -n "${LH_PER_KEY:-}" ]; then
  "$bin" --database-url "$url" queue limit default --per-key "$LH_PER_KEY" \
    >>"$logdir/migrate.log" 2>&1 || die "queue limit failed (see $logdir/migrate.log)"
fi

# Startup and shutdown on an empty queue, as graphile-worker's perfTest times one `--once`.
coproc PQ { "$pgbin/psql" -X -q -A -t -d "$url" 2>&1; }
ask() { echo "$1" >&"${PQ[1]}"; read -r -t 60 answer <&"${PQ[0]}" || die "no answer from psql to: $1"; }
t0="$(now_us)"
start_nodes 1 "$logdir/startup"
deadline=$(( SECONDS + 60 ))
while :; do
  ask "SELECT count(*) FROM leasehold.worker_instances WHERE pid = ${pids[0]} AND status = 'RUNNING';"
  [ "$answer" = 1 ] && break
  check_alive
  [ "$SECONDS" -lt "$deadline" ] || die "the startup node was not RUNNING after 60 s"
  nap 0.005
done
stop_nodes
startup_ms="$(ms_since "$t0")"

awk -v n="$jobs" -v t="$type" -v p="$payload" -v k="$keys" \
  'BEGIN { for (i = 0; i < n; i++) {
             key = k > 0 ? sprintf(",\"concurrency_key\":\"k%d\"", i % k) : ""
             printf "{\"type\":\"%s\"%s,\"payload\":" p "}\n", t, key, i } }' >"$logdir/jobs.ndjson"
t0="$(now_us)"
"$bin" --database-url "$url" enqueue --file "$logdir/jobs.ndjson" >"$logdir/enqueue.out" 2>&1 ||
  die "enqueue --file failed: $(tail -n 1 "$logdir/enqueue.out")"
enqueue_us=$(( $(now_us) - t0 ))
ask "ANALYZE; CHECKPOINT; SELECT 1;"   # only the SELECT prints a line
[ "$answer" = 1 ] || die "ANALYZE/CHECKPOINT: $answer"

# The drain. Counting what is left would scan the heap the drain fills with dead rows
# (7 ms a poll at 100k jobs), so the poll first probes only the last job enqueued (by
# primary key; jobs are claimed in id order here) and, once it is done, whether any job
# at all is still queued or running (seen through the partial indexes and the heap).
ask "SELECT min(id) || ',' || max(id) FROM leasehold.jobs;"
IFS=, read -r first_id last_id <<<"$answer"
last_probe="SELECT EXISTS (SELECT 1 FROM leasehold.jobs WHERE id = $last_id AND status IN ('queued', 'running'));"
all_probe="SELECT EXISTS (SELECT 1 FROM leasehold.jobs WHERE status = 'queued') OR EXISTS (SELECT 1 FROM leasehold.jobs WHERE status = 'running');"
poll_s="$(awk -v m="$poll_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
# Postgres's CPU over the drain: the postmaster's children, ended (its
# cutime + cstime) and alive. The server is local; its postmaster is the
# parent of this session's backend.
ask "SELECT pg_backend_pid();"
read -r -a st <"/proc/$answer/stat"
postmaster="${st[3]}"
pg_ticks() {
  local t p s
  read -r -a s <"/proc/$postmaster/stat"
  t=$(( s[13] + s[14] + s[15] + s[16] ))
  for p in $(pgrep -P "$postmaster"); do
    read -r -a s <"/proc/$p/stat" 2>/dev/null && t=$(( t + s[13] + s[14] ))
  done
  echo "$t"
}
pg_ticks0="$(pg_ticks)"
t0="$(now_us)"
start_nodes "$nodes" "$logdir/node"
deadline=$(( SECONDS + limit_s ))
polls=0 probe="$last_probe"
while :; do
  ask "$probe"
  polls=$(( polls + 1 ))
  if [ "$answer" = f ] && [ "$probe" = "$last_probe" ]; then probe="$all_probe"; continue; fi
  [ "$answer" = f ] && break
  [ "$answer" = t ] || die "poll answered '$answer'"
  check_alive
  [ "$SECONDS" -lt "$deadline" ] || die "not drained after $limit_s s (logs: $logdir)"
  nap "$poll_s"
done
t1="$(now_us)"
wall_us=$(( t1 - t0 ))
# CPU of the nodes over the run (utime + stime, clock ticks), read before they stop.
ticks=0
for p in "${pids[@]}"; do
  read -r -a st <"/proc/$p/stat"
  ticks=$(( ticks + st[13] + st[14] ))
done
pg_ticks_run=$(( $(pg_ticks) - pg_ticks0 ))
stop_nodes
exit_us=$(( $(now_us) - t0 ))

ask "SELECT count(*) FILTER (WHERE outcome = 'succeeded') || ',' || count(*) || ',' || (SELECT count(*) FROM leasehold.jobs) || ',' || coalesce(round(extract(epoch FROM max(finished_at)) * 1e6)::bigint - $t0, 0) || ',' || coalesce(round(extract(epoch FROM max(finished_at) - min(started_at)) * 1e6)::bigint, 0) FROM leasehold.job_runs WHERE job_id BETWEEN $first_id AND $last_id;"
IFS=, read -r ok runs left last_us span_us <<<"$answer"
echo '\q' >&"${PQ[1]}"
[ "$ok" = "$jobs" ] && [ "$runs" = "$jobs" ] && [ "$left" = 0 ] ||
  die "expected $jobs succeeded runs and no job left; job_runs shows $ok succeeded of $runs, leasehold.jobs $left (logs: $logdir)"

# The nodes log a line per job: keep only the ends of their logs, and drop the job file.
for f in "$logdir"/node*.err; do
  { head -n 20 "$f"; echo "... (cut by drain.sh)"; tail -n 20 "$f"; } >"$f.ends" && rm -f "$f"
done
rm -f "$logdir/jobs.ndjson"
hz="$(getconf CLK_TCK)"
awk -v jobs="$jobs" -v nodes="$nodes" -v conc="$conc" -v handler="$handler" -v ms="$sleep_ms" \
    -v prog="$program" -v args="${LH_NODE_ARGS:-}" -v su="$startup_ms" -v eu="$enqueue_us" \
    -v wu="$wall_us" -v xu="$exit_us" -v lu="$last_us" -v spu="$span_us" -v polls="$polls" \
    -v pm="$poll_ms" -v ticks="$ticks" -v pgt="$pg_ticks_run" -v hz="$hz" 'BEGIN {
  gsub(/["\\]/, "", args); gsub(/["\\]/, "", prog)
  printf "{\"jobs\": %d, \"nodes\": %d, \"concurrency\": %d, \"handler\": \"%s\"", jobs, nodes, conc, handler
  if (handler == "sleep") printf ", \"sleep_ms\": %d", ms
  if (handler == "exec") printf ", \"program\": \"%s\"", prog
  printf ", \"node_args\": \"%s\", \"startup_ms\": %d", args, su
  printf ", \"add_ms\": %.1f, \"enqueue_jobs_per_s\": %.1f", eu / 1000, jobs / (eu / 1e6)
  printf ", \"wall_ms\": %.1f, \"jobs_per_s_wall\": %.1f, \"exit_ms\": %.1f", wu / 1000, jobs / (wu / 1e6), xu / 1000
  printf ", \"db_last_finish_ms\": %.1f, \"db_first_start_to_last_finish_ms\": %.1f", lu / 1000, spu / 1000
  printf ", \"node_cpu_us_per_job\": %.2f, \"pg_cpu_us_per_job\": %.2f", ticks * 1e6 / hz / jobs, pgt * 1e6 / hz / jobs
  printf ", \"polls\": %d, \"poll_ms\": %d}\n", polls, pm
}'
