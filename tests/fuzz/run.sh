#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (build dir build/fuzz) and runs each one for N seconds
# from a fresh copy of its seed corpus. Exits non-zero if any fuzzer reports a crash, a leak, an
# ASan/UBSan error or a failed FUZZ_CHECK; the input that did it is kept in build/fuzz/artifacts/.
#
#   tests/fuzz/run.sh [--seconds N] [--only NAME] [--jobs N] [--keep-corpus]
#
#   --seconds N     run time of each fuzzer (default 60)
#   --only NAME     run one harness (fuzz_ipv4, fuzz_icmp, fuzz_tcp_wire, fuzz_tcp_connection)
#   --jobs N        parallel build jobs (default 1: the machines are shared)
#   --keep-corpus   continue from the corpus a previous run grew instead of the bare seeds
#
# Reproduce a finding:  build/fuzz/tests/fuzz/fuzz_tcp_connection build/fuzz/artifacts/<file>
# (FUZZ_TRACE=1 prints what a fuzz_tcp_connection input does, segment by segment).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=60 only="" jobs=1 keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --keep-corpus) keep=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "run.sh: --seconds wants a positive integer" >&2; exit 2; }

# shellcheck source=../lib/deps.sh
source "$root/tests/lib/deps.sh"
tt_install_deps clang libclang-rt-14-dev

harnesses=(fuzz_ipv4 fuzz_icmp fuzz_tcp_wire fuzz_tcp_connection)
if [[ -n $only ]]; then
  [[ " ${harnesses[*]} " == *" $only "* ]] || { echo "run.sh: no harness $only" >&2; exit 2; }
  harnesses=("$only")
fi

build=$root/build/fuzz
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja -DTUNTCP_SANITIZE=ON \
  -DTUNTCP_BENCH=OFF -DTUNTCP_FUZZ=ON >/dev/null
cmake --build "$build" --target "${harnesses[@]}" -j "$jobs"

bin=$build/tests/fuzz
artifacts=$build/artifacts
mkdir -p "$artifacts"
failed=() summary=()
for h in "${harnesses[@]}"; do
  corpus=$build/corpus/$h
  if [[ $keep -eq 0 || ! -d $corpus ]]; then
    rm -rf "$corpus"
    mkdir -p "$corpus"
    cp "$root/tests/fuzz/corpus/$h/"* "$corpus/"
  fi
  log=$build/$h.log
  echo "== $h: ${seconds} s (log: $log)"
  rc=0
  "$bin/$h" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/$h-" \
    "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  summary+=("$h: ${execs:-0} execs in $seconds s")
  if [[ $rc -ne 0 ]] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FUZZ_CHECK failed' "$log"; then
    failed+=("$h")
    summary[-1]+=" (FAILED: stopped at the first finding)"
    echo "   FAILED (exit $rc):"
    grep -E 'FUZZ_CHECK failed|ERROR:|runtime error:|SUMMARY:|Test unit written' -A1 "$log" | head -20 | sed 's/^/   /'
  fi
done

echo
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]} (reproducers in $artifacts)" >&2
  exit 1
fi
echo "fuzz: no crash, leak, sanitizer report or failed check"
