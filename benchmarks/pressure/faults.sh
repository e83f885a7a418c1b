# shellcheck shell=bash
# The faults of scripts/bench-pressure.sh (issue 18's pressure cells), sourced
# by it (bash). Each fault_start_<name> starts its sessions in the background
# and appends their pids to fault_pids; fault_stop ends them (the xmin pin
# commits first). Every session of the script names itself with an
# application_name starting "pressure-", which the terminator spares.
# The script sets: pgbin, port, db, logs, phase_log (the current phase's
# fault log), idle_conns (300).

fault_pids=() pin_fd="" pin_pid=""

fault_psql() {  # fault_psql APPNAME ARGS... &: a psql session of a fault, run in the
  local app="$1"; shift  # background; exec, so that $! is psql itself and kill reaches it
  PGAPPNAME="$app" PGOPTIONS="-c client_min_messages=warning" \
    exec "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

# a. One session opens a REPEATABLE READ transaction, reads the queue (which
# takes its snapshot, so its xmin holds back every VACUUM of the cluster)
# and then sits idle in transaction until fault_stop commits it. Its input
# is a fifo this script holds open, so no process sleeps on its behalf.
fault_start_xmin_pin() {
  local fifo="$logs/xmin-pin.fifo"
  rm -f "$fifo" && mkfifo "$fifo"
  fault_psql pressure-xmin-pin -At <"$fifo" >>"$phase_log" 2>&1 &
  pin_pid=$!
  exec {pin_fd}>"$fifo"
  printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ;" \
    "SELECT 'xmin pinned at ' || now() || ', jobs seen: ' || count(*) FROM leasehold.jobs;" >&"$pin_fd"
}

# b. Four readers, each counting leasehold.jobs in its own REPEATABLE READ
# transaction, again 100 ms after each count ends (psql's \watch).
fault_start_rr_readers() {
  local k
  for k in 1 2 3 4; do
    fault_psql "pressure-rr-reader-$k" -At \
      <<<'BEGIN ISOLATION LEVEL REPEATABLE READ \; SELECT count(*) FROM leasehold.jobs \; COMMIT \watch 0.1' \
      >/dev/null 2>>"$phase_log" &
    fault_pids+=($!)
  done
}

# c. Twice a second, pg_terminate_backend() on every client backend and
# autovacuum worker of the cluster but this script's own sessions (the
# enqueuer among them, so the offered rate stays what it is). Each round
# logs how many it ended.
fault_start_terminate() {
  fault_psql pressure-terminator -At <<<"SELECT clock_timestamp() || ' terminated ' || count(*)
    FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE pid <> pg_backend_pid() AND backend_type IN ('client backend', 'autovacuum worker')
      AND application_name NOT LIKE 'pressure-%' \watch 0.5" >>"$phase_log" 2>&1 &
  fault_pids+=($!)
}

# d. $idle_conns connections opened at once and held idle (pgbench clients
# that only sleep between empty transactions), for longer than the phase.
fault_start_idle_conns() {
  PGAPPNAME=pressure-idle "$pgbin/pgbench" -n -c "$idle_conns" -j 2 -T 100000 -f "$root/benchmarks/pressure/idle.sql" \
    -h 127.0.0.1 -p "$port" -U postgres "$db" >>"$phase_log" 2>&1 &
  fault_pids+=($!)
}

fault_start() { "fault_start_$1"; }

fault_stop() {
  local p
  if [ -n "$pin_fd" ]; then  # the pin commits and its psql ends with its input
    printf '%s\n' "SELECT 'released at ' || clock_timestamp();" "COMMIT;" >&"$pin_fd" || true
    exec {pin_fd}>&-
    pin_fd=""
    wait "$pin_pid" 2>/dev/null || true
  fi
  for p in "${fault_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${fault_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  fault_pids=() pin_pid=""
}
