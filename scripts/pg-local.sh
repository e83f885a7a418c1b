#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for development and tests.
#   scripts/pg-local.sh start|stop|restart|url|status|destroy
# LEASEHOLD_PG_DIR (default <repo>/.leasehold/pg) and LEASEHOLD_PG_PORT
# (default 55432) choose the cluster. As root the server runs as the
# postgres user, so the data lives where that user can reach it.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${LEASEHOLD_PG_DIR:-$root/.leasehold/pg}"
port="${LEASEHOLD_PG_PORT:-55432}"
bin="$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)"
[ -n "$bin" ] || { echo "pg-local: PostgreSQL 15 is not installed (scripts/install-deps.sh)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# As root, the data directory must be traversable by postgres; a repo under
# /root or a 0700 home is not. Then the cluster lives under /tmp, and the
# requested directory is a symlink to it. The choice depends only on the
# repository's own permissions, so every command makes the same one.
data_dir() {
  if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$root" 2>/dev/null; then
    echo "$dir"
  else
    echo "/tmp/leasehold-pg-$(echo -n "$dir" | md5sum | cut -c1-12)"
  fi
}

url() { echo "postgresql://postgres@127.0.0.1:$port/leasehold"; }

running() { as_owner "$bin/pg_ctl" -D "$(data_dir)" status >/dev/null 2>&1; }

start() {
  local data; data="$(data_dir)"
  mkdir -p "$(dirname "$dir")"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres "$data"
    as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 >/dev/null
  fi
  if [ "$data" != "$dir" ]; then ln -sfn "$data" "$dir"; fi
  if ! running; then
    as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c max_connections=200" >/dev/null
  fi
  for _ in $(seq 1 100); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  if ! psql -qtA -h 127.0.0.1 -p "$port" -U postgres -d postgres \
       -c "SELECT 1 FROM pg_database WHERE datname = 'leasehold'" | grep -q 1; then
    psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE leasehold"
  fi
  url
}

stop() {
  running && as_owner "$bin/pg_ctl" -D "$(data_dir)" -m fast -w stop >/dev/null
  return 0
}

# Stops the cluster and deletes its data (tests start from nothing).
destroy() {
  stop
  rm -rf "$(data_dir)" "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  destroy) destroy ;;
  restart) as_owner "$bin/pg_ctl" -D "$(data_dir)" -m fast -w restart \
             -l "$(data_dir)/server.log" >/dev/null ;;
  url) url ;;
  status) running ;;
  *) echo "usage: $0 start|stop|restart|url|status|destroy" >&2; exit 2 ;;
esac
