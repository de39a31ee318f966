#!/usr/bin/env bash
# iperf3 end-of-test stress (not in CI: about 20 minutes with the defaults). Runs stock iperf3
# clients with several streams against tuntcp over and over, in the set-ups where the
# end of a multi-stream test used to hang, and fails if any run does not finish:
#   A. --queues 1 --workers 1 --impair loss=1%,reorder=10%,delay=2ms  (faults, one worker)
#   B. --queues 2 --workers 2, with two CPU hogs keeping both cores busy
#   C. --queues 2 --workers 3, with two CPU hogs
#   D. --queues 2 --workers 2, with two CPU hogs
# In each: `iperf3 -t 2 -P 6`, `-P 8` and `--bidir -P 8` (A and B), `-P 4` (C and D), N times
# each.
# Every client is bounded by `timeout` (a hang is a run that has not ended 25 s after it
# started, for a 2 s test); every run's JSON must have no error and, where tuntcp receives,
# equal sender and receiver byte counts per stream. Prints one line per set-up and case.
#
#   tests/iperf3_stress.sh [--runs N] [--setups ABCD] [--no-build]     (as root; default N = 50)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=50 build=1 setups=ABCD
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --setups) setups=$2; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "tests/iperf3_stress.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "tests/iperf3_stress.sh: --runs needs a whole number >= 1" >&2; exit 2; }
[[ $setups =~ ^[ABCD]+$ ]] || { echo "tests/iperf3_stress.sh: --setups takes letters from ABCD" >&2; exit 2; }
source tests/lib/deps.sh
tt_release_tuntcp "$build"
source tests/integration/lib.sh

HOGS=()
start_hogs() {
  for _ in 1 2; do
    timeout 1800 sh -c 'while :; do :; done' &
    HOGS+=($!)
  done
}
stop_hogs() {
  [[ ${#HOGS[@]} -eq 0 ]] && return 0  # (a bare `wait` would wait for tuntcp too)
  kill "${HOGS[@]}" 2>/dev/null || true
  wait "${HOGS[@]}" 2>/dev/null || true
  HOGS=()
}
trap 'stop_hogs; tt_cleanup' EXIT

failures=0
J=$TT_DIR/run.json
# One case: N runs of iperf3 -t 2 "$@"; counts hangs (exit 124) and other failures.
run_case() {
  local label=$1; shift
  local hung=0 failed=0 i rc t0 t1 slowest=0
  for ((i = 1; i <= runs; i++)); do
    rc=0
    t0=$(date +%s%N)
    timeout -k 2 25 ip netns exec "$TT_NS" iperf3 -c "$TT_ADDR" -J -t 2 "$@" >"$J" 2>&1 || rc=$?
    t1=$(date +%s%N)
    (((t1 - t0) / 1000000 > slowest)) && slowest=$(((t1 - t0) / 1000000))
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
      hung=$((hung + 1))
      echo "  run $i of $label: no end within 25 s" >&2
      continue
    fi
    local err=""
    if ! jq -e . "$J" >/dev/null 2>&1; then
      err="output is not JSON: $(head -c 200 "$J")"
    elif [[ $rc -ne 0 || $(jq -r '.error // empty' "$J") != "" ]]; then
      err="exit $rc: $(jq -r '.error // empty' "$J")"
    else
      # Where tuntcp receives, both sides count the same bytes on every stream.
      local bad
      bad=$(jq -r '[.end.streams[] | select(.sender.sender == true)
                     | select(.sender.bytes != .receiver.bytes)] | length' "$J")
      [[ $bad -eq 0 ]] || err="$bad stream(s) with sender != receiver bytes"
    fi
    if [[ -n $err ]]; then
      failed=$((failed + 1))
      echo "  run $i of $label: $err" >&2
    fi
  done
  printf '[iperf3_stress]   %-56s %3d runs: %3d clean, %d hung, %d failed (slowest %.1f s)\n' \
    "$label" "$runs" $((runs - hung - failed)) "$hung" "$failed" "$(awk -v m="$slowest" 'BEGIN {print m / 1000}')"
  failures=$((failures + hung + failed))
}

# One set-up: a fresh namespace and tuntcp with "$@", the cases, then a clean stop.
run_setup() {
  local name=$1 hogs=$2 cases=$3; shift 3
  tt_setup
  trap 'stop_hogs; tt_cleanup' EXIT  # tt_setup set its own
  tt_start --time-wait 1 "$@"
  [[ $hogs -eq 1 ]] && start_hogs
  local label="$name: tuntcp $*$([[ $hogs -eq 1 ]] && echo ' + 2 CPU hogs')"
  echo "[iperf3_stress] $label"
  local c
  IFS=';' read -ra list <<<"$cases"
  for c in "${list[@]}"; do
    # shellcheck disable=SC2086 # the case is a list of iperf3 flags
    run_case "iperf3 -t 2 $c" $c
  done
  stop_hogs
  tt_stop
  ip netns del "$TT_NS"
  TT_NS="$TT_NS-x"  # the next set-up gets a namespace of its own
}

[[ $setups == *A* ]] && run_setup A 0 "-P 6;-P 8;--bidir -P 8" \
  --queues 1 --workers 1 --impair loss=1%,reorder=10%,delay=2ms
[[ $setups == *B* ]] && run_setup B 1 "-P 6;-P 8;--bidir -P 8" --queues 2 --workers 2
[[ $setups == *C* ]] && run_setup C 1 "-P 4" --queues 2 --workers 3
[[ $setups == *D* ]] && run_setup D 1 "-P 4" --queues 2 --workers 2

if [[ $failures -gt 0 ]]; then
  echo "[iperf3_stress] FAIL: $failures run(s) hung or failed" >&2
  exit 1
fi
echo "[iperf3_stress] all runs ended with their results"
