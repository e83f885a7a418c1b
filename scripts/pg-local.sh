#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for development and tests.
#   scripts/pg-local.sh start|stop|restart|url|status|destroy
# LEASEHOLD_PG_DIR (default <repo>/.leasehold/pg) and LEASEHOLD_PG_PORT
# (default 55432) choose the cluster. It listens on 127.0.0.1 only, with
# trust auth, and holds a database named leasehold. LEASEHOLD_PG_OPTIONS adds
# server options at start (e.g. "-c max_connections=400"; later -c win).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${LEASEHOLD_PG_DIR:-$root/.leasehold/pg}"
port="${LEASEHOLD_PG_PORT:-55432}"
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/pg_ctl" ] || {
  echo "pg-local: PostgreSQL 15 is not installed (run scripts/install-deps.sh)" >&2
  exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

# Postgres refuses to run as root, so as root every server command runs as
# the postgres user (from /, so an unreadable working directory is no issue).
as_owner() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# As root, postgres must be able to reach the data directory; under /root or
# a 0700 home it cannot. Then the cluster lives under /tmp and $dir is a
# symlink to it. The choice depends only on the permissions of $dir's parent
# (start creates it first), so every command makes the same one.
data_dir() {
  if ! is_root || runuser -u postgres -- test -x "$(dirname "$dir")" 2>/dev/null; then
    echo "$dir"
  else
    echo "/tmp/leasehold-pg-$(echo -n "$dir" | md5sum | cut -c1-12)"
  fi
}

url() { echo "postgresql://postgres@127.0.0.1:$port/leasehold"; }

running() { as_owner "$bin/pg_ctl" -D "$(data_dir)" status >/dev/null 2>&1; }

sql() { "$bin/psql" -X -qtA -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$1"; }

start() {
  mkdir -p "$(dirname "$dir")"
  local data; data="$(data_dir)"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    if is_root; then chown postgres:postgres "$data"; fi
    chmod 700 "$data"
    as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 >/dev/null
  fi
  if [ "$data" != "$dir" ]; then ln -sfnT "$data" "$dir"; fi
  # The unix socket sits in the data dir (postgres owns it, so no /var/run
  # permissions); a path too long for a socket name just goes without one.
  local sock="$data"
  [ ${#data} -le 90 ] || sock=""
  if ! running; then
    # pg_ctl remembers these options, so `restart` keeps them.
    as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -k '$sock' \
          -c max_connections=200 -c shared_buffers=128MB ${LEASEHOLD_PG_OPTIONS:-}" >/dev/null || {
      echo "pg-local: start failed; end of $data/server.log:" >&2
      tail -n 20 "$data/server.log" >&2 || true
      exit 1
    }
  fi
  local ready=0
  for _ in $(seq 1 300); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then ready=1; break; fi
    sleep 0.1
  done
  [ "$ready" = 1 ] || { echo "pg-local: not ready on port $port after 30 s" >&2; exit 1; }
  if [ -z "$(sql "SELECT 1 FROM pg_database WHERE datname = 'leasehold'")" ]; then
    sql "CREATE DATABASE leasehold" >/dev/null
  fi
  url
}

stop() {
  if running; then as_owner "$bin/pg_ctl" -D "$(data_dir)" -m fast -w stop >/dev/null; fi
}

# Stops the cluster and deletes its data (tests and benchmarks start empty).
destroy() {
  stop
  rm -rf "$(data_dir)" "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart)
    as_owner "$bin/pg_ctl" -D "$(data_dir)" -m fast -w -t 60 restart \
      -l "$(data_dir)/server.log" >/dev/null ;;
  url) url ;;
  status) if running; then echo "running: $(url)"; else echo stopped; exit 1; fi ;;
  destroy) destroy ;;
  *) echo "usage: $0 start|stop|restart|url|status|destroy" >&2; exit 2 ;;
esac
