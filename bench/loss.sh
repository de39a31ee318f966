#!/usr/bin/env bash
# Throughput under loss: 1 % loss and 5 ms delay each way (10 ms RTT), both directions, tuntcp
# against the kernel's own TCP over the same impaired path, in the same run. A benchmark, not a
# test: it prints Gbit/s and the ratio tuntcp/kernel.
#
#   bench/loss.sh [--duration S] [--spec SPEC] [--cc cubic|bbr] [--bufs BYTES]
#     --duration  seconds per transfer (default 10)
#     --spec      the impairment, each way (default loss=1%,delay=5ms)
#     --cc        congestion control of the kernel's senders (iperf -Z; this kernel's default is
#                 bbr, which other namespaces may not change), default cubic: tuntcp's own, so
#                 both run the same algorithm
#     --bufs      fixed tuntcp --rcvbuf and --sndbuf in bytes (default: tuntcp's defaults, which
#                 start at 256 KiB and auto-tune up to 6 MiB / 4 MiB, as the kernel does)
#
# The kernel has no sch_netem, so both paths carry the same engine/impair code: tuntcp applies
# it at its TUN (--impair, --offload off so each loss hits one MTU-sized packet), and the
# kernel-to-kernel baseline runs through tuntcp-impair-relay between two namespaces. Kernel
# senders are iperf 2 clients (-t, -Z CC), tuntcp sends in client mode; every rate is what the
# receiver got in the window: nc into wc -c on the kernel side, tcp_bytes_in on tuntcp's side.
# Every device, address and packet lives in namespaces this script deletes.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh

duration=10 spec="loss=1%,delay=5ms" cc=cubic bufs=auto
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) duration=$2; shift ;;
    --spec) spec=$2; shift ;;
    --cc) cc=$2; shift ;;
    --bufs) bufs=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench/loss.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $cc == cubic || $cc == bbr ]] || { echo "bench/loss.sh: --cc must be cubic or bbr" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "bench/loss.sh: needs root (network namespaces and TUN)" >&2; exit 1; }
tt_install_deps
cmake --preset release >/dev/null
cmake --build --preset release -j 1 --target tuntcp tuntcp-impair-relay >/dev/null
TUNTCP=$PWD/build/release/engine/tuntcp
export RELAY=$PWD/build/release/tests/tools/tuntcp-impair-relay
source tests/integration/relay_lib.sh
tuntcp_cc=cubic  # tuntcp has cubic and newreno
buf_flags=()
if [[ $bufs != auto ]]; then
  [[ $bufs =~ ^[0-9]+$ ]] || { echo "bench/loss.sh: --bufs takes a byte count" >&2; exit 2; }
  buf_flags=(--rcvbuf "$bufs" --sndbuf "$bufs" --rcvbuf-max 0 --sndbuf-max 0)
fi

NS=ttloss-$$ HOST=198.18.0.1 ADDR=198.18.0.2
work=$(mktemp -d /tmp/tuntcp-loss.XXXXXX)
pid=
cleanup() {
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  relay_cleanup
  rm -rf "$work"
}
trap cleanup EXIT
flags=(--dev tt0 --addr "$ADDR" --host-addr "$HOST/24" --queues 1 --workers 1 --offload off
       --impair "$spec" --impair-seed 1 --cc "$tuntcp_cc" "${buf_flags[@]}"
       --log-level warn)
gbps() { awk -v b="$1" -v s="$duration" 'BEGIN {printf "%.3f", b * 8 / s / 1e9}'; }
# send NS ADDR PORT: a kernel sender for $duration seconds.
send() {
  timeout "$((duration + 10))" ip netns exec "$1" iperf -c "$2" -p "$3" -t "$duration" -Z "$cc" \
    >>"$work/iperf.log" 2>&1 || true
}
# receive_count NS PORT: a kernel receiver that counts bytes until the sender stops; the count
# lands in $work/count.
receive_count() {
  ip netns exec "$1" timeout "$((duration + 10))" nc -l "$2" </dev/null | wc -c >"$work/count" &
  rpid=$!
  sleep 0.2
}

ip netns add "$NS"
ip -n "$NS" link set lo up

echo "== kernel -> tuntcp ($spec each way, $duration s)"
ip netns exec "$NS" "$TUNTCP" "${flags[@]}" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  ip -n "$NS" -4 addr show dev tt0 2>/dev/null | grep -q "inet $HOST/" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.05
done
send "$NS" "$ADDR" 9
sleep 0.5
kill -INT "$pid"
wait "$pid" || true
pid=
k2t=$(awk '$1 == "tcp_bytes_in" {print $2}' "$work/server.log")

echo "== tuntcp -> kernel"
receive_count "$NS" 5001
timeout "$duration" ip netns exec "$NS" "$TUNTCP" "${flags[@]}" --services none \
  --connect "$HOST:5001" --send-bytes 1000000000000 >"$work/client.log" 2>&1 || true
wait "$rpid" || true
t2k=$(cat "$work/count")
ip netns del "$NS"

echo "== kernel -> kernel through tuntcp-impair-relay, both ways"
relay_setup "$spec" 1 "$work/relay.log"
receive_count "$RL_B" 5001
send "$RL_A" "$RL_ADDR_B" 5001
wait "$rpid" || true
a2b=$(cat "$work/count")
receive_count "$RL_A" 5002
send "$RL_B" "$RL_ADDR_A" 5002
wait "$rpid" || true
b2a=$(cat "$work/count")
relay_cleanup

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
echo
echo "loss benchmark: $spec each way, kernel cc $cc, tuntcp cc $tuntcp_cc bufs $bufs, $duration s per run"
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, Linux $(uname -r)"
printf '%-28s %12s %12s %8s\n' direction "tuntcp Gb/s" "kernel Gb/s" ratio
printf '%-28s %12s %12s %8s\n' "kernel sends, tuntcp recv" "$(gbps "$k2t")" "$(gbps "$a2b")" "$(ratio "$k2t" "$a2b")"
printf '%-28s %12s %12s %8s\n' "tuntcp sends, kernel recv" "$(gbps "$t2k")" "$(gbps "$b2a")" "$(ratio "$t2k" "$b2a")"
