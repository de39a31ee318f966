#!/usr/bin/env bash
# The main job: build tuntcp, then measure it with stock iperf3 against the Linux kernel's own
# TCP over veth, in one run on this machine, and print one table. Also ping latency and rate.
# Needs root; installs missing Debian packages itself. Every address and packet stays inside
# network namespaces this script creates and deletes; every run is bounded in time.
#
#   bench/run.sh [--duration S] [--runs N] [--configs LIST] [--tests LIST] [--no-ping]
#                [--queues N] [--workers N] [--micro]
#     --duration  seconds per iperf3 run (default 5)
#     --runs      runs per case; the table shows the median by throughput (default 3)
#     --configs   subset of: veth,tun1500-nooffload,tun1500,tun9000 (default: all)
#     --tests     subset of: c,P4,R  (iperf3 -c; -c -P 4; -c -R) (default: all)
#     --no-ping   skip the ping rows
#     --queues/--workers  tuntcp threads (default 1/1: this machine has 2 cores)
#     --micro     also run the Google Benchmark micro-benchmarks (bench/micro.sh)
#
# Columns: Gbit/s (receiver side, from iperf3 -J); CPU-s/GB of tuntcp alone and of the whole
# machine (all cores, from /proc/stat) per GB moved; ratio = Gbit/s / the veth row's.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh

duration=5 runs=3 configs=veth,tun1500-nooffload,tun1500,tun9000 tests=c,P4,R ping=1 queues=1 workers= micro=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) duration=$2; shift ;;
    --runs) runs=$2; shift ;;
    --configs) configs=$2; shift ;;
    --tests) tests=$2; shift ;;
    --no-ping) ping=0 ;;
    --queues) queues=$2; shift ;;
    --workers) workers=$2; shift ;;
    --micro) micro=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
workers=${workers:-$queues}
[[ $(id -u) -eq 0 ]] || { echo "bench/run.sh: needs root (network namespaces and TUN)" >&2; exit 1; }

tt_install_deps
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tuntcp >/dev/null
TUNTCP=$PWD/build/release/engine/tuntcp

NS_A=ttb-a-$$ NS_B=ttb-b-$$
work=$(mktemp -d /tmp/tuntcp-bench.XXXXXX)
tpid=
cleanup() {
  [[ -n $tpid ]] && kill -KILL "$tpid" 2>/dev/null || true
  ip netns pids "$NS_A" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  ip netns pids "$NS_B" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Busy jiffies of the whole machine (user nice system irq softirq steal).
machine_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# utime + stime of one process, all threads, in jiffies.
proc_jiffies() { [[ -n ${1:-} && -r /proc/$1/stat ]] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0; }
hz=$(getconf CLK_TCK)

# One iperf3 run from $client_ns to $server_addr with extra args; prints "gbps bytes".
iperf_once() {
  local ns=$1 addr=$2
  shift 2
  ip netns exec "$ns" timeout $((duration + 20)) iperf3 -c "$addr" -t "$duration" -J "$@" >"$work/iperf.json" 2>&1 || true
  jq -r '.end.sum_received | "\(.bits_per_second / 1e9) \(.bytes)"' "$work/iperf.json" 2>/dev/null || echo "0 0"
}

declare -A result  # "config/test" -> "gbps own_cpu_per_gb machine_cpu_per_gb"

# Runs every selected test $runs times against $server_addr from $client_ns; $own_pid is the
# process whose CPU counts as "own" (tuntcp), or empty.
measure() {
  local config=$1 client_ns=$2 addr=$3 own_pid=$4 t
  for t in ${tests//,/ }; do
    local args=()
    case $t in
      c) args=() ;;
      P4) args=(-P 4) ;;
      R) args=(-R) ;;
      *) echo "bench/run.sh: unknown test $t" >&2; exit 2 ;;
    esac
    local samples=()
    for _ in $(seq 1 "$runs"); do
      local m0 p0 m1 p1 out
      m0=$(machine_jiffies); p0=$(proc_jiffies "$own_pid")
      out=$(iperf_once "$client_ns" "$addr" "${args[@]}")
      m1=$(machine_jiffies); p1=$(proc_jiffies "$own_pid")
      samples+=("$(awk -v o="$out" -v m=$((m1 - m0)) -v p=$((p1 - p0)) -v hz="$hz" -v own="$own_pid" 'BEGIN {
        split(o, a, " "); gb = a[2] / 1e9
        if (gb <= 0) { print "0 - -"; exit }
        printf "%.2f %s %.2f", a[1], (own == "" ? "-" : sprintf("%.2f", p / hz / gb)), m / hz / gb }')")
    done
    # Median by throughput.
    result[$config/$t]=$(printf '%s\n' "${samples[@]}" | sort -g -k1,1 | awk -v n="${#samples[@]}" 'NR == int((n + 1) / 2)')
    printf '  %-20s %-3s %s\n' "$config" "$t" "${result[$config/$t]}" >&2
  done
}

# --- the kernel's TCP over veth: iperf3 -s in A, client in B --------------------------------
run_veth() {
  ip netns add "$NS_A"; ip netns add "$NS_B"
  ip link add ttb-va netns "$NS_A" type veth peer name ttb-vb netns "$NS_B"
  ip -n "$NS_A" addr add 198.18.1.1/24 dev ttb-va; ip -n "$NS_B" addr add 198.18.1.2/24 dev ttb-vb
  for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
  ip -n "$NS_A" link set ttb-va up; ip -n "$NS_B" link set ttb-vb up
  ip netns exec "$NS_A" sh -c 'iperf3 -s >/dev/null 2>&1 &'
  sleep 0.5
  measure veth "$NS_B" 198.18.1.1 ""
  ip netns pids "$NS_A" | xargs -r kill 2>/dev/null || true
  ip netns del "$NS_A"; ip netns del "$NS_B"
}

# --- tuntcp: the kernel's iperf3 client against tuntcp's iperf3 server -----------------------
run_tuntcp() {
  local config=$1
  shift
  ip netns add "$NS_A"
  ip -n "$NS_A" link set lo up
  ip netns exec "$NS_A" "$TUNTCP" --dev tt0 --queues "$queues" --workers "$workers" --log-level warn \
    --services iperf3,discard "$@" >"$work/tuntcp-$config.log" 2>&1 &
  tpid=$!
  for _ in $(seq 1 100); do
    ip -n "$NS_A" -4 addr show dev tt0 2>/dev/null | grep -q 'inet 198.18.0.1/' && break
    kill -0 "$tpid" 2>/dev/null || { cat "$work/tuntcp-$config.log"; exit 1; }
    sleep 0.05
  done
  measure "$config" "$NS_A" 198.18.0.2 "$tpid"
  kill -TERM "$tpid"; wait "$tpid" || true; tpid=
  ip netns del "$NS_A"
}

echo "measuring (${runs} runs of ${duration} s per case; median shown):" >&2
for config in ${configs//,/ }; do
  case $config in
    veth) run_veth ;;
    tun1500-nooffload) run_tuntcp "$config" --mtu 1500 --offload off ;;
    tun1500) run_tuntcp "$config" --mtu 1500 --offload on ;;
    tun9000) run_tuntcp "$config" --mtu 9000 --offload off ;;
    *) echo "bench/run.sh: unknown config $config" >&2; exit 2 ;;
  esac
done

ping_rows=()
if [[ $ping -eq 1 ]]; then
  ip netns add "$NS_A"
  ip netns exec "$NS_A" "$TUNTCP" --dev tt0 --queues "$queues" --workers "$workers" --log-level warn >/dev/null 2>&1 &
  tpid=$!
  sleep 0.5
  ip netns exec "$NS_A" ping -n -c 2000 -i 0.001 -W 1 198.18.0.2 >"$work/ping" 2>&1 || true
  grep -o 'time=[0-9.]*' "$work/ping" | cut -d= -f2 | sort -g >"$work/rtt"
  pct() { awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p/100)+1; printf "%.3f", a[i]}' "$work/rtt"; }
  ping_rows+=("$(printf 'ping -i 0.001 RTT ms: p50 %s  p90 %s  p99 %s  p99.9 %s  (%s replies)' \
    "$(pct 50)" "$(pct 90)" "$(pct 99)" "$(pct 99.9)" "$(wc -l <"$work/rtt")")")
  ip netns exec "$NS_A" ping -n -q -f -l 64 -w 3 198.18.0.2 >"$work/flood" 2>&1 || true
  ping_rows+=("$(awk '/received/ {r=$4} /time/ {gsub("ms","",$NF); t=$NF} END {printf "ping -f -l 64: %.0f replies/s", r / (t / 1000)}' "$work/flood")")
  kill -TERM "$tpid"; wait "$tpid" || true; tpid=
  ip netns del "$NS_A"
fi

echo
echo "tuntcp $(git rev-parse --short HEAD 2>/dev/null || echo '?'): $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), Linux $(uname -r), $(date -u '+%F %H:%M UTC')"
echo "iperf3 $(iperf3 --version | head -1 | awk '{print $2}'), ${duration} s per run, median of ${runs}; tuntcp --queues $queues --workers $workers"
printf '%-22s %-10s %9s %12s %14s %9s\n' config test Gbit/s "own CPU-s/GB" "machine CPU-s/GB" "x veth"
for config in ${configs//,/ }; do
  for t in ${tests//,/ }; do
    read -r g own mach <<<"${result[$config/$t]:-0 - -}"
    base=${result[veth/$t]:-}
    ratio=-
    [[ -n $base ]] && ratio=$(awk -v g="$g" -v b="${base%% *}" 'BEGIN {if (b > 0) printf "%.2f", g / b; else print "-"}')
    label="iperf3 -c"; [[ $t == P4 ]] && label="iperf3 -c -P 4"; [[ $t == R ]] && label="iperf3 -c -R"
    printf '%-22s %-16s %6s %12s %14s %9s\n' "$config" "$label" "$g" "$own" "$mach" "$ratio"
  done
done
for r in "${ping_rows[@]}"; do echo "$r"; done
if [[ $micro -eq 1 ]]; then bench/micro.sh; fi
