# The measurements of scripts/bench-peers.sh, sourced by it (bash). Each step
# appends one JSON line per figure to $results through record(); the script
# sets: root, logs, results, peers, node22, port, base, lh_bin, lh_bench_bin,
# step_timeout, jobs, h_jobs (assoc: handler -> job count), secs, clients,
# samples, lh_args, sections (assoc: section -> 1), pgbin.

# record ROUND SYSTEM KIND CONFIG JSON: one result line, checked to be JSON.
record() {
  [ -n "$5" ] || exit 1   # the step that should have produced it has said why
  python3 -c 'import json,sys; json.loads(sys.argv[1])' "$5" 2>/dev/null || die "$2 $3: bad JSON result '$5'"
  printf '{"round": %s, "system": "%s", "kind": "%s", "config": "%s", "result": %s}\n' "$1" "$2" "$3" "$4" "$5" >>"$results"
}
# errline FILE: the line of a log that says what went wrong (else its last line).
errline() {
  { grep -E 'Error|error|ERROR|FATAL|failed|gave up' "$1" || tail -n 1 "$1"; } | tail -n 1 | cut -c1-300
}
# run LOG CMD...: a step with a time limit; stdout to LOG.out, stderr to LOG.err; prints the
# last JSON line of stdout. timeout signals the whole process group (driver children too).
run() {
  local log="$1"; shift
  DRIVER_TIMEOUT_S="$step_timeout" timeout -k 10 "$step_timeout" "$@" >"$log.out" 2>"$log.err" ||
    die "'$*' failed (exit $?): $(errline "$log.err") (log: $log.err)"
  grep '^{' "$log.out" | tail -n 1 | grep . || die "'$*' printed no JSON result (log: $log.out)"
}
psqlx() { local db="$1"; shift; PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"; }

# The handler runs, in this order, each with its job count from h_jobs:
#   noop (the headline drain), sleep1 / sleep10 (blocking 1 ms / 10 ms), exec (/bin/true).
handler_keys() {
  [ -n "${sections[drain]:-}" ] && echo noop
  [ -n "${sections[handlers]:-}" ] && echo sleep1 sleep10 exec
  return 0
}
say_rate() {  # say_rate LABEL JSON
  say "  $1: $(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("{:,} jobs, {:,.0f} jobs/s wall".format(r["jobs"], r["jobs_per_s_wall"]))' "$2")"
}

# Raw limit: each run starts from a freshly seeded queue (VACUUM ANALYZE, CHECKPOINT), big
# enough not to drain in $secs s; jobs/s = pgbench tx/s x batch. The database must show at
# least tx x batch jobs completed (job_runs rows for leasehold's script), else the script's
# completion matched nothing (a stale copy of leasehold's SQL, say) and the figure is void.
raw_round() {
  local r="$1" spec script batch db seed file rows done_sql c log tps tx ndone left
  for spec in ref_claim_complete:100 ref_claim_complete:500 ref_claim_delete:500 \
              lh_claim_complete:100 lh_claim_complete:500 lh_claim_complete:1000; do
    script="${spec%:*}" batch="${spec#*:}"
    rows=$(( secs * (batch >= 500 ? 150000 : 100000) ))
    case "$script" in
      ref_claim_complete) db=raw file=raw/claim_complete.sql seed=raw/seed.sql
        done_sql="SELECT count(*) FROM jobs WHERE status = 'succeeded'" ;;
      ref_claim_delete) db=raw file=raw/claim_delete.sql seed=raw/seed.sql
        done_sql="SELECT $rows - count(*) FROM jobs" ;;
      lh_claim_complete) db=lh_raw file=leasehold_claim_complete.sql seed=leasehold_seed.sql
        done_sql="SELECT count(*) FROM leasehold.job_runs WHERE outcome = 'succeeded'" ;;
    esac
    for c in $clients; do
      psqlx "$db" -v rows="$rows" -f "benchmarks/peers/$seed" >/dev/null || die "seeding $db failed"
      log="$logs/r$r-raw-$script-b$batch-c$c"
      # leasehold's own statements run as a node runs them: one generic plan each
      # (statement_plans::generic); the reference scripts keep Postgres's default.
      PGOPTIONS="$([ "$db" = lh_raw ] && echo "-c plan_cache_mode=force_generic_plan")" \
      timeout -k 10 "$step_timeout" "$pgbin/pgbench" -n -M prepared -c "$c" -j $(( c < 2 ? c : 2 )) \
        -T "$secs" -D n="$batch" -D cp=-32768 -D cr=-infinity -D ci=0 -f "benchmarks/peers/$file" -h 127.0.0.1 -p "$port" -U postgres "$db" \
        >"$log.out" 2>"$log.err" || die "pgbench $file failed: $(errline "$log.err") (log: $log.err)"
      tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log.out")"
      tx="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log.out")"
      if [ -z "$tps" ] || [ -z "$tx" ]; then die "no tps or transaction count in $log.out"; fi
      ndone="$(psqlx "$db" -Atc "$done_sql")"
      left="$(psqlx "$db" -Atc "SELECT count(*) FROM $([ "$db" = raw ] && echo jobs || echo leasehold.jobs) WHERE status = 'queued'")"
      if [ "$left" -eq 0 ]; then
        say "WARNING: $script b$batch c$c drained the queue: its figure is a lower bound"
      elif [ "$ndone" -lt $(( tx * batch )) ]; then
        die "$file: pgbench ran $tx transactions of $batch jobs but the database shows only $ndone completed"
      fi
      record "$r" raw pgbench "c$c" "$(python3 -c 'import json,sys; a=sys.argv; print(json.dumps({"script": a[1], "batch": int(a[2]), "clients": int(a[3]), "tps": float(a[4]), "jobs_per_s": float(a[4]) * int(a[2]), "tx": int(a[5]), "jobs_done_db": int(a[6]), "queued_left": int(a[7])}))' "$script" "$batch" "$c" "$tps" "$tx" "$ndone" "$left")"
      say "  raw $script batch $batch, $c clients: $(awk -v t="$tps" -v b="$batch" 'BEGIN { printf "%.0f", t * b }') jobs/s"
    done
  done
}

# Latency is measured on a quiet cluster for every system: the writes of the
# runs before it are flushed first, and autovacuum is given up to a minute to
# finish, so neither lands in the middle of the samples.
quiesce() {
  local i busy
  psqlx postgres -c CHECKPOINT || die "CHECKPOINT failed"
  for i in $(seq 1 120); do
    busy="$(psqlx postgres -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")"
    [ "$busy" = 0 ] && return 0
    sleep 0.5
  done
  say "  (autovacuum still busy after 60 s; measuring anyway)"
}

# leasehold as users run it: benchmarks/peers/leasehold/drain.sh starts
# `leasehold node` processes (2 x --concurrency 24) per handler; then, labelled
# apart, pickup latency and the in-process many-slot drain of leasehold-bench.
leasehold_round() {
  local r="$1" log="$logs/r$1-leasehold" key out
  for key in $(handler_keys); do
    out="$(LH_BIN="$lh_bin" LH_DB_BASE="$base" JOBS="${h_jobs[$key]}" LH_NODES=2 \
      LH_CONCURRENCY=24 LH_HANDLER="$(handler_kind "$key")" LH_SLEEP_MS="$(handler_ms "$key")" \
      LH_NODE_ARGS="$node_args" LH_LOG_DIR="$log-$key-nodes" \
      run "$log-$key" bash benchmarks/peers/leasehold/drain.sh)"
    record "$r" leasehold run "$key" "$out"
    say_rate "leasehold $key" "$out"
  done
  if [ -n "${sections[latency]:-}" ]; then
    # Like the peers: a `leasehold node --concurrency 24` process from the CLI and a
    # separate client (leasehold/latency.mjs, node 22) enqueuing with job_insert.sql.
    if [ -n "$node22" ]; then
      mkdir -p "$peers/bench/leasehold" && cp benchmarks/peers/leasehold/latency.mjs "$peers/bench/leasehold/"
      for m in paced closed; do
        quiesce
        record "$r" leasehold latency "$m cli" \
          "$(cd "$peers/bench/leasehold" && LAT_MODE=$m LAT_SAMPLES="$samples" LAT_GAP_MS=50 LH_BIN="$lh_bin" \
               LH_INSERT_SQL="$root/persistence/sql/job_insert.sql" LH_NODE_ARGS="$node_args" \
               LH_LOG="$log-lat-cli-$m.node.err" run "$log-lat-cli-$m" "$node22" latency.mjs)"
      done
    fi
    # Secondary: the node inside leasehold-bench's process (both modes in one line).
    quiesce
    record "$r" leasehold latency "pace 50ms" \
      "$(run "$log-lat" "$lh_bench_bin" --database-url "$base/leasehold" --reset --scenario latency \
           --samples "$samples" --pace-ms 50)"
  fi
  if [ -n "${sections[inprocess]:-}" ]; then
    # shellcheck disable=SC2086  # lh_args is a list of flags
    record "$r" leasehold inprocess "$lh_args" \
      "$(run "$log-inproc" "$lh_bench_bin" --database-url "$base/leasehold" --reset --scenario throughput \
           --jobs "$inproc_jobs" $lh_args)"
  fi
}
handler_kind() { case "$1" in sleep*) echo sleep ;; *) echo "$1" ;; esac; }
handler_ms() { case "$1" in sleep*) echo "${1#sleep}" ;; *) echo 0 ;; esac; }

# One peer's round: its throughput driver per handler, then paced and closed-loop latency.
#   peer_round <round> <system> <lat label suffix> <handler var> <sleep var> [VAR=value ...]
peer_round() {
  local r="$1" sys="$2" lat_suffix="$3" hvar="$4" svar="$5" log="$logs/r$1-$2" key m out
  shift 5
  cd "$peers/bench/$sys"
  for key in $(handler_keys); do
    # The command substitution is a subshell: the exported settings end with it.
    # shellcheck disable=SC2163  # "$@" holds VAR=value settings, exported as given
    out="$(export JOBS="${h_jobs[$key]}" "$hvar=$(handler_kind "$key")" "$svar=$(handler_ms "$key")" "$@"
           run "$log-$key" "$node22" perf.mjs)"
    record "$r" "$sys" run "$key" "$out"
    say_rate "$sys $key" "$out"
  done
  if [ -n "${sections[latency]:-}" ]; then
    for m in paced closed; do
      quiesce
      record "$r" "$sys" latency "$m$lat_suffix" \
        "$(LAT_MODE=$m LAT_SAMPLES="$samples" LAT_GAP_MS=50 run "$log-lat-$m" "$node22" latency.mjs)"
    done
  fi
  cd "$root"
}
graphile_round() {
  peer_round "$1" graphile "" GW_TASK GW_SLEEP_MS GW_PARALLELISM=2 GW_CONCURRENCY=24 GW_LOCAL_QUEUE=500
}
pgboss_round() {
  peer_round "$1" pgboss " notify" PB_HANDLER PB_SLEEP_MS PB_PROCS=2 PB_HANDLER_CONC=24
}
