#!/usr/bin/env bash
# The fault matrix ("Robustness"): TCP between the kernel and tuntcp over an impaired link
# (loss, delay + jitter, reordering, duplication, corruption, a 5 s blackout, all combined),
# both directions, each case in its own network namespace, then one table:
#   case, direction, bytes, seconds, tuntcp retransmits and RTOs, kernel retransmits, result.
# The impairment is tuntcp's own (--impair; this kernel has no sch_netem), see
# tests/integration/faults_test.sh and faults_cases.sh. Needs root.
#
#   tests/faults.sh [--full] [--mb N] [--cases LIST] [--offload off|on|both] [--kernel]
#     (default)   every case at 20 MiB with --offload off, loss1 and corrupt also with
#                 --offload on (ctest's integration.faults_* run all but loss10, reorder, combined)
#     --full      every case with --offload off and on, 100 MiB, plus the kernel reference rows
#     --mb N      MiB per transfer (time bounds scale with it)
#     --cases     comma-separated subset of: loss1,loss10,delay,reorder,duplicate,corrupt,
#                 blackout,combined
#     --offload   which offload settings to run every chosen case with
#     --kernel    also time the kernel's TCP over the same impairment (tuntcp-impair-relay)
# Exits 1 if any transfer failed or exceeded its bound.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh
source tests/integration/faults_cases.sh

full=0 mb='' cases='' offload='' kernel=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --full) full=1 ;;
    --mb) mb=$2; shift ;;
    --cases) cases=$2; shift ;;
    --offload) offload=$2; shift ;;
    --kernel) kernel=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "tests/faults.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "tests/faults.sh: needs root (network namespaces and TUN)" >&2; exit 1; }
if [[ $full -eq 1 ]]; then
  mb=${mb:-100} offload=${offload:-both} kernel=1
fi
mb=${mb:-20}
IFS=, read -r -a chosen <<<"${cases:-$(IFS=,; echo "${FAULTS_CASES[*]}")}"
for c in "${chosen[@]}"; do
  faults_case "$c" || { echo "tests/faults.sh: unknown case '$c' (known: ${FAULTS_CASES[*]})" >&2; exit 2; }
done
# (case, offload) pairs to run.
runs=()
for c in "${chosen[@]}"; do
  case ${offload:-ci} in
    ci) runs+=("$c off"); [[ $c == loss1 || $c == corrupt ]] && runs+=("$c on") ;;
    both) runs+=("$c off" "$c on") ;;
    off|on) runs+=("$c $offload") ;;
    *) echo "tests/faults.sh: --offload must be off, on or both" >&2; exit 2 ;;
  esac
done

tt_install_deps
cmake --preset release >/dev/null
cmake --build --preset release -j 1 --target tuntcp tuntcp-impair-relay >/dev/null
export TUNTCP=$PWD/build/release/engine/tuntcp
export RELAY=$PWD/build/release/tests/tools/tuntcp-impair-relay
export FAULTS_MB=$mb
work=$(mktemp -d /tmp/tuntcp-faults.XXXXXX)
export FAULTS_RESULTS=$work/results
: >"$FAULTS_RESULTS"
failed=0
for r in "${runs[@]}"; do
  read -r c o <<<"$r"
  log=$work/$c-$o.log
  echo "== $c (offload $o, $mb MiB)"
  start=$(date +%s)
  if bash tests/integration/faults_test.sh "$c" "$o" >"$log" 2>&1; then
    echo "   passed in $(($(date +%s) - start)) s"
  else
    failed=1
    label=$c
    [[ $o == off ]] || label+="+offload"
    echo "$label - - - - - - FAIL" >>"$FAULTS_RESULTS"
    echo "   FAILED after $(($(date +%s) - start)) s; log kept in $log:"
    grep -E 'FAIL|error' "$log" | head -n 5 | sed 's/^/   /'
  fi
done
if [[ $kernel -eq 1 ]]; then
  for c in "${chosen[@]}"; do
    echo "== $c (kernel <-> kernel reference)"
    bash tests/integration/faults_kernel.sh "$c" >"$work/$c-kernel.log" 2>&1 || true
  done
fi

echo
echo "fault matrix: $mb MiB per transfer, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, Linux $(uname -r)"
{
  echo "case direction bytes seconds retx_tuntcp rto_tuntcp retx_kernel result"
  cat "$FAULTS_RESULTS"
} | column -t
[[ $failed -eq 0 ]] && rm -rf "$work"
exit "$failed"
