#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, into build-fuzz/) and runs each for
# a bounded time, starting from its committed corpus (tests/fuzz/corpus/T).
# New corpus entries go to a temporary directory, or with --merge are
# merged into the committed corpus. Prints executions, corpus size and
# crashes per target; exits 1 on any crash (its input is kept in
# build-fuzz/artifacts/).
#
#   scripts/fuzz.sh [--seconds N] [--merge] [TARGET...]
#
# Targets: fuzz_payload fuzz_bulk fuzz_duration fuzz_http (default: all).
# LEASEHOLD_FUZZ_NO_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(fuzz_payload fuzz_bulk fuzz_duration fuzz_http)
seconds=60
merge=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --merge) merge=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] \
  || { echo "fuzz.sh: --seconds must be a positive integer" >&2; exit 2; }
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $t (${all[*]})" >&2; exit 2; }
done

if [ "${LEASEHOLD_FUZZ_NO_BUILD:-0}" != 1 ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DLEASEHOLD_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j2 --target "${targets[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/leasehold-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
artifacts="$PWD/build-fuzz/artifacts"
mkdir -p "$artifacts"

max_len() {
  case "$1" in
    fuzz_http|fuzz_bulk) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

crashed=0
rows=()
for t in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/$t"
  mkdir -p "$seeds" "$work/$t"
  log="$work/$t.log"
  before=$(find "$artifacts" -name "$t-*" | wc -l)
  set +e
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" "$work/$t" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  found=$(( $(find "$artifacts" -name "$t-*" | wc -l) - before ))
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
    crashed=1
    found=$(( found > 0 ? found : 1 ))
    echo "fuzz.sh: $t failed (exit $rc); the end of its log:" >&2
    tail -30 "$log" >&2
  fi
  rows+=("$(printf '%-14s %8s %12s %10s %6s %8s' "$t" "${seconds}s" "${execs:-?}" \
    "$(( ${execs:-0} / seconds ))" "${corpus:-?}" "$found")")
  if [ "$merge" = 1 ]; then
    "build-fuzz/tests/fuzz/$t" -merge=1 -max_len="$(max_len "$t")" "$seeds" "$work/$t" \
      >/dev/null 2>&1
  fi
done

printf '%-14s %8s %12s %10s %6s %8s\n' target time execs execs/s corpus crashes
printf '%s\n' "${rows[@]}"
exit "$crashed"
