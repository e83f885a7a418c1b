#!/usr/bin/env bash
# Installs leasehold's build, test and demo dependencies from Debian 12.
# Idempotent: when every package is already installed it returns at once,
# without touching apt (so it is cheap to call before every build).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git             # toolchain
  libcaf-dev libpqxx-dev nlohmann-json3-dev        # actors, Postgres, JSON
  libcaf-openssl0.17 libssl-dev openssl            # TLS cluster links (CAF's OpenSSL module)
  libspdlog-dev libcli11-dev libcpp-httplib-dev    # logs, CLI, HTTP bridge
  libboost-test-dev uuid-dev                       # unit tests, libuuid
  postgresql postgresql-client                     # local cluster (pg-local.sh)
  procps python3 chromium iproute2 faketime        # demo/tests: ps, JSON, dashboard, tc, clocks
  clang-14 llvm-14 libclang-rt-14-dev              # fuzz targets: libFuzzer, sanitizers
  zlib1g-dev                                       # tests: gzip bodies
  python3-psycopg2                                 # examples/python (examples.sql_enqueue)
  nodejs                                           # tests: the console driven in Chromium (puppeteer-core)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
# npm: Debian's package, unless the nodejs installed brings its own (as
# NodeSource's does; Debian's npm then conflicts with it).
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "install-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
