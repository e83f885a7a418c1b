#!/usr/bin/env bash
# Installs leasehold's build and test dependencies from Debian 12 (idempotent:
# does nothing when everything is already there).
set -euo pipefail

packages=(build-essential cmake pkg-config git libcaf-dev libpqxx-dev
  nlohmann-json3-dev libboost-test-dev libspdlog-dev libcli11-dev
  libcpp-httplib-dev postgresql postgresql-client procps python3 chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
