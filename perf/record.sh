#!/usr/bin/env bash
# Profiles tuntcp under a chosen load with `perf record -e cpu-clock -g` (hardware counters are
# not available on these machines) and writes, under perf/out/CASE/:
#   flame.svg        flame graph (open in a browser; hover for names and shares)
#   top-symbols.txt  functions by self time;  by-thread.txt  time per thread
#   folded.txt       folded stacks;           perf.data      the raw profile (perf report -i)
#
#   perf/record.sh [--case ping|iperf3-c|iperf3-R|iperf3-P4] [--seconds N] [--system]
#                  [-- extra tuntcp flags, e.g. --offload off --queues 2]
#     --system  sample every CPU (kernel, iperf3 and tuntcp) instead of tuntcp alone
# Everything runs in a private network namespace that is deleted afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh
case=iperf3-c seconds=5 system=0 extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --case) case=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --system) system=1 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "perf/record.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "perf/record.sh: needs root" >&2; exit 1; }
tt_install_deps linux-perf
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tuntcp >/dev/null

out=perf/out/$case
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
ip -n "$NS" link set lo up
ip netns exec "$NS" build/release/engine/tuntcp --dev tt0 --log-level warn "${extra[@]}" >"$out/tuntcp.log" 2>&1 &
pid=$!
sleep 0.5
kill -0 "$pid" || { cat "$out/tuntcp.log"; exit 1; }
run_for=$((seconds + 2))
case $case in
  ping) ip netns exec "$NS" ping -n -q -f -l 64 -w "$run_for" 198.18.0.2 >"$out/load.log" 2>&1 & ;;
  iperf3-c) ip netns exec "$NS" iperf3 -c 198.18.0.2 -t "$run_for" >"$out/load.log" 2>&1 & ;;
  iperf3-R) ip netns exec "$NS" iperf3 -c 198.18.0.2 -t "$run_for" -R >"$out/load.log" 2>&1 & ;;
  iperf3-P4) ip netns exec "$NS" iperf3 -c 198.18.0.2 -t "$run_for" -P 4 >"$out/load.log" 2>&1 & ;;
  *) echo "perf/record.sh: unknown case $case" >&2; exit 2 ;;
esac
load=$!
sleep 1
target=(-p "$pid")
[[ $system -eq 1 ]] && target=(-a)
perf record -e cpu-clock -F 2999 -g "${target[@]}" -o "$out/perf.data" -- sleep "$seconds" 2>"$out/perf-record.log"
wait "$load" || true
load=
kill -TERM "$pid"; wait "$pid" || true; pid=
perf report -i "$out/perf.data" --no-children --sort symbol --stdio -g none --percent-limit 0.3 \
  2>/dev/null | grep '%' | grep -v '^#' | sed 's/[[:space:]-]*$//' >"$out/top-symbols.txt" || true
perf report -i "$out/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null |
  grep '%' | grep -v '^#' >"$out/by-thread.txt" || true
perf script -i "$out/perf.data" 2>/dev/null | awk -f perf/stackcollapse.awk | sort >"$out/folded.txt"
awk -f perf/flamegraph.awk -v title="tuntcp: $case ${extra[*]}" "$out/folded.txt" >"$out/flame.svg"
echo "load: $(grep -E 'receiver|packets transmitted' "$out/load.log" | tail -n 1 | xargs)"
echo "time per thread:"; cat "$out/by-thread.txt"
echo "top symbols (self time):"; head -25 "$out/top-symbols.txt"
echo "flame graph: $out/flame.svg   raw profile: perf report -i $out/perf.data"
