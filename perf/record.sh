#!/usr/bin/env bash
# Profiles tuntcp under load: starts it in a private netns, drives it with a ping flood, records
# `perf record -e cpu-clock -g` (hardware counters are not available on these machines) for the
# given time, and writes a top-symbols report and the raw perf.data to perf/out/.
#
#   perf/record.sh [--seconds N] [--queues N] [--workers N]
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh
seconds=5 queues=1 workers=
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift ;;
    --queues) queues=$2; shift ;;
    --workers) workers=$2; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "perf/record.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
workers=${workers:-$queues}
[[ $(id -u) -eq 0 ]] || { echo "perf/record.sh: needs root" >&2; exit 1; }
tt_install_deps linux-perf
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tuntcp >/dev/null

out=perf/out
mkdir -p "$out"
NS=ttperf-$$
pid= load=
cleanup() {
  [[ -n $load ]] && kill "$load" 2>/dev/null || true
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" build/release/engine/tuntcp --dev tt0 --queues "$queues" --workers "$workers" \
  --log-level warn >"$out/tuntcp.log" 2>&1 &
pid=$!
sleep 0.5
ip netns exec "$NS" ping -n -q -f -l 64 -w $((seconds + 2)) 198.18.0.2 >"$out/load.log" 2>&1 &
load=$!
sleep 0.5
perf record -e cpu-clock -F 4999 -g -p "$pid" -o "$out/perf.data" -- sleep "$seconds" 2>"$out/perf-record.log"
wait "$load" || true
load=
kill -TERM "$pid"; wait "$pid" || true; pid=
perf report -i "$out/perf.data" --no-children --sort symbol --stdio -g none --percent-limit 0.3 \
  2>/dev/null | grep '%' | grep -v '^#' | sed 's/[[:space:]-]*$//' >"$out/top-symbols.txt" || true
perf report -i "$out/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null |
  grep '%' | grep -v '^#' >"$out/by-thread.txt" || true
echo "load: $(tail -n 2 "$out/load.log" | head -n 1)"
echo "per thread:"; cat "$out/by-thread.txt"
echo "top symbols (self time):"; head -25 "$out/top-symbols.txt"
echo "raw profile: $out/perf.data (perf report -i $out/perf.data)"
