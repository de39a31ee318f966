#!/usr/bin/env bash
# The main job: build tuntcp, start it in a private network namespace on a TUN device, drive
# it with real kernel traffic, print a result table, clean up. Needs root; installs missing
# Debian packages itself.
#
#   bench/run.sh [--duration SECONDS] [--queues N] [--workers N] [--cases LIST] [--micro]
#     --duration   length of each load run (default 5)
#     --queues     tuntcp TUN queues / reader threads (default 1)
#     --workers    tuntcp worker threads (default: same as --queues)
#     --cases      comma-separated subset of: ping,flood,tcp (default: all)
#     --micro      also run the Google Benchmark micro-benchmarks (bench/micro.sh)
# Every address and packet stays inside the namespace, which is deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh

duration=5 queues=1 workers= cases=ping,flood,tcp micro=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) duration=$2; shift ;;
    --queues) queues=$2; shift ;;
    --workers) workers=$2; shift ;;
    --cases) cases=$2; shift ;;
    --micro) micro=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
workers=${workers:-$queues}
[[ $(id -u) -eq 0 ]] || { echo "bench/run.sh: needs root (network namespaces and TUN)" >&2; exit 1; }

tt_install_deps
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tuntcp >/dev/null
TUNTCP=build/release/engine/tuntcp

NS=ttbench-$$
HOST=198.18.0.1 ADDR=198.18.0.2
work=$(mktemp -d /tmp/tuntcp-bench.XXXXXX)
pid=
cleanup() {
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" "$TUNTCP" --dev tt0 --addr $ADDR --host-addr $HOST/24 --queues "$queues" \
  --workers "$workers" --log-level warn >"$work/tuntcp.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  ip -n "$NS" -4 addr show dev tt0 2>/dev/null | grep -q "inet $HOST/" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/tuntcp.log"; exit 1; }
  sleep 0.05
done

rows=()
row() { rows+=("$(printf '%-34s %14s %10s %10s %10s %10s %8s' "$@")"); }

# Percentile p (0-100) of the numbers in file $1 (one per line).
pct() { sort -g "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int((NR-1)*p/100)+1; printf "%.3f", a[i]}'; }

if [[ ,$cases, == *,ping,* ]]; then
  count=$(awk -v d="$duration" 'BEGIN {print int(d * 1000)}')
  ip netns exec "$NS" ping -n -c "$count" -i 0.001 -W 1 $ADDR >"$work/ping" 2>&1 || true
  grep -o 'time=[0-9.]*' "$work/ping" | cut -d= -f2 >"$work/rtt"
  recv=$(wc -l <"$work/rtt")
  loss=$(grep -o '[0-9.]*% packet loss' "$work/ping" | cut -d% -f1)
  row "ping -i 0.001 (RTT, ms)" "$recv replies" "$(pct "$work/rtt" 50)" "$(pct "$work/rtt" 90)" \
      "$(pct "$work/rtt" 99)" "$(pct "$work/rtt" 99.9)" "${loss}%"
fi
if [[ ,$cases, == *,flood,* ]]; then
  # ping -f keeps one request in flight per reply (closed loop); -l 64 keeps 64 in flight.
  for preload in 1 64; do
    ip netns exec "$NS" ping -n -q -f -l $preload -w "$duration" $ADDR >"$work/flood" 2>&1 || true
    recv=$(grep -o '[0-9]* received' "$work/flood" | cut -d' ' -f1)
    ms=$(grep -o 'time [0-9]*ms' "$work/flood" | grep -o '[0-9]*')
    loss=$(grep -o '[0-9.]*% packet loss' "$work/flood" | cut -d% -f1)
    read -r mn avg mx _ < <(grep -o 'rtt [^=]*= [0-9./]*' "$work/flood" | awk '{print $4}' | tr / ' ')
    pps=$(awk -v r="$recv" -v t="$ms" 'BEGIN {printf "%.0f", r / (t / 1000)}')
    row "ping -f -l $preload (pkt/s; RTT ms)" "$pps pkt/s" "avg $avg" "" "" "max $mx" "${loss}%"
  done
fi

if [[ ,$cases, == *,tcp,* ]]; then
  # TCP bulk: the kernel's TCP (iperf 2 client) sends to tuntcp's discard service.
  for streams in 1 2; do
    ip netns exec "$NS" timeout $((duration + 10)) iperf -c $ADDR -p 9 -t "$duration" -f g -P $streams \
      >"$work/iperf" 2>&1 || true
    gbps=$(grep -E '^\[(SUM|  1)\]' "$work/iperf" | tail -n 1 | grep -o '[0-9.]* Gbits/sec' | cut -d' ' -f1)
    row "TCP kernel -> discard, $streams stream(s)" "${gbps:-?} Gbit/s" "" "" "" "" ""
  done
fi

kill -TERM "$pid"
wait "$pid" || { echo "tuntcp exited non-zero:"; cat "$work/tuntcp.log"; exit 1; }
pid=

echo
echo "tuntcp $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) CPUs, $(uname -r), $(date -u +%F)"
echo "queues=$queues workers=$workers duration=${duration}s"
printf '%-34s %14s %10s %10s %10s %10s %8s\n' "case" "result" "p50" "p90" "p99" "p99.9" "loss"
printf '%s\n' "${rows[@]}"
echo
echo "tuntcp's own counters:"
grep -E 'rx_packets|tx_packets|icmp_echo_replies|tcp_bytes_in|tcp_retransmits|drops_total|pool_exhausted|worker_wakeups|buffers_returned' "$work/tuntcp.log"

if [[ $micro -eq 1 ]]; then bench/micro.sh; fi
