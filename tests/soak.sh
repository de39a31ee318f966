#!/usr/bin/env bash
# Soak test (not in CI): N minutes of mixed load against one tuntcp (--queues 2 --workers 2,
# with a mild --impair when the binary has it), then checks that its resident memory, open file
# descriptors and packet-buffer pool return to where they started once the load stops: a leak
# of connections, buffers or fds shows up as a level that stays up.
#
#   tests/soak.sh [--minutes N] [--no-build]      (as root; default 10 minutes)
#
# Load, all at once, each loop bounded by the deadline:
#   - iperf3 -P 2, runs of up to 30 s one after another (the built-in iperf3 server),
#   - short connections: tuntcp-loadgen sequential, 500 echo exchanges a run,
#   - echo (port 7) of 1-4 MiB of random data through nc, checked by sha256.
# Everything lives in a network namespace of its own (tests/integration/lib.sh), removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10 build=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --minutes) minutes=$2; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "tests/soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $minutes =~ ^[0-9]+$ && $minutes -ge 1 ]] || { echo "tests/soak.sh: --minutes needs a whole number >= 1" >&2; exit 2; }
source tests/lib/deps.sh
tt_release_tuntcp "$build"
source tests/integration/lib.sh

# Tolerances once the load has stopped and every connection is gone: the same fds; the pool back
# within a batch of its start (reads armed in flight come and go); RSS within 32 MiB of its
# start (the allocator may keep some freed connection buffers cached for reuse).
RSS_TOLERANCE_KB=$((32 * 1024))
POOL_TOLERANCE=64

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$TT_PID/status"; }
fds() { find "/proc/$TT_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# Buffers in use from the latest --stats-interval line ("pool N/M").
pool() { grep -o 'pool [0-9]*/' "$TT_LOG" | tail -n 1 | tr -dc '0-9'; }
conns() { grep -o 'conns [0-9]*' "$TT_LOG" | tail -n 1 | tr -dc '0-9'; }
sample() { echo "$1: rss $(rss_kb) kB, fds $(fds), pool $(pool), conns $(conns)"; }

tt_setup
# Thousands of short connections a minute from one client address: let the kernel reuse its
# TIME-WAIT ports (RFC 6191 with timestamps), in this namespace only.
tt_ns sysctl -qw net.ipv4.tcp_tw_reuse=1
args=(--queues 2 --workers 2 --stats-interval 1)
help=$("$TUNTCP" --help)  # not piped into grep -q: an early exit would SIGPIPE it (pipefail)
[[ $help == *"--impair "* ]] && args+=(--impair loss=0.5%,delay=1ms)
tt_start "${args[@]}"
sleep 2
read -r rss0 fds0 pool0 < <(echo "$(rss_kb) $(fds) $(pool)")
tt_log "tuntcp ${args[*]}; ${minutes} min of load"
tt_log "$(sample start)"

deadline=$(($(date +%s) + minutes * 60))
left() { echo $((deadline - $(date +%s))); }

iperf_loop() {
  local runs=0 fails=0 gbits=0 t ip waited rc
  while (($(left) >= 5)); do
    t=$(left)
    ((t > 30)) && t=30
    tt_ns iperf3 -c "$TT_ADDR" -P 2 -t "$t" -f g >"$TT_DIR/iperf.out" 2>&1 &
    ip=$! waited=0
    while kill -0 $ip 2>/dev/null && ((waited < t + 30)); do sleep 1; waited=$((waited + 1)); done
    if kill -0 $ip 2>/dev/null; then
      # Hung: keep both sides' view of the connections (tuntcp dumps its own on SIGUSR1).
      kill -USR1 "$TT_PID"
      { echo "iperf3 hung after ${waited}s:"; tt_ns ss -tnie; } >>"$TT_DIR/iperf.err"
      kill $ip
    fi
    rc=0
    wait $ip || rc=$?
    if [[ $rc -eq 0 ]]; then
      gbits=$(awk -v s="$gbits" '/SUM.*receiver/ {s += $(NF-2)} END {print s}' "$TT_DIR/iperf.out")
      runs=$((runs + 1))
    else
      fails=$((fails + 1))
      tail -n 3 "$TT_DIR/iperf.out" >>"$TT_DIR/iperf.err"
      sleep 1
    fi
  done
  echo "iperf3 $runs $fails $gbits" >"$TT_DIR/iperf.res"
}
short_loop() {
  local conns=0 fails=0
  while (($(left) >= 5)); do
    if timeout 120 ip netns exec "$TT_NS" "$LOADGEN" sequential "$TT_ADDR" 7 500 200 >>"$TT_DIR/loadgen.err" 2>&1; then
      conns=$((conns + 500))
    else
      fails=$((fails + 1))
    fi
    sleep 0.5
  done
  echo "loadgen $conns $fails" >"$TT_DIR/loadgen.res"
}
echo_loop() {
  local n=0 fails=0 bytes=0 size want got
  head -c $((4 << 20)) /dev/urandom >"$TT_DIR/random"
  while (($(left) >= 5)); do
    size=$(((1 << 20) + RANDOM * 96))  # 1 MiB to ~4 MiB
    head -c "$size" "$TT_DIR/random" >"$TT_DIR/chunk"
    want=$(sha256sum <"$TT_DIR/chunk")
    got=$(timeout 60 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 7 <"$TT_DIR/chunk" | sha256sum) || true
    if [[ $got == "$want" ]]; then
      n=$((n + 1)) bytes=$((bytes + size))
    else
      fails=$((fails + 1))
    fi
  done
  echo "echo $n $fails $bytes" >"$TT_DIR/echo.res"
}

iperf_loop & p1=$!
short_loop & p2=$!
echo_loop & p3=$!
while (($(left) > 0)); do
  s=$(left)
  ((s > 60)) && s=60
  ((s < 1)) && s=1
  sleep "$s"
  tt_log "$(sample "$(left)s left")"
done
wait $p1 $p2 $p3
read -r _ iperf_runs iperf_fails iperf_gbits <"$TT_DIR/iperf.res"
read -r _ short_conns short_fails <"$TT_DIR/loadgen.res"
read -r _ echo_n echo_fails echo_bytes <"$TT_DIR/echo.res"
tt_log "iperf3: $iperf_runs runs ($iperf_fails failed), $(awk -v s="$iperf_gbits" -v n="$iperf_runs" 'BEGIN {printf "%.2f", n ? s / n : 0}') Gbit/s a run on average"
tt_log "short connections: $short_conns ok ($short_fails loadgen runs failed)"
tt_log "echo: $echo_n exchanges, $((echo_bytes >> 20)) MiB checked by sha256 ($echo_fails failed)"

# The load has stopped: wait for the last connections (TIME-WAIT is 60 s) to go.
for _ in $(seq 1 150); do
  [[ $(conns) == 0 ]] && break
  sleep 1
done
sleep 2
read -r rss1 fds1 pool1 conns1 < <(echo "$(rss_kb) $(fds) $(pool) $(conns)")
tt_log "$(sample end)"
tt_stop
status=0
check() {  # check WHAT START END TOLERANCE
  if (($3 > $2 + $4)); then
    echo "[soak] FAIL: $1 $2 -> $3 (tolerance $4)" >&2
    status=1
  else
    tt_log "ok: $1 $2 -> $3 (tolerance $4)"
  fi
}
check "rss_kb" "$rss0" "$rss1" $RSS_TOLERANCE_KB
check "fds" "$fds0" "$fds1" 0
check "pool_in_use" "$pool0" "$pool1" $POOL_TOLERANCE
[[ $conns1 == 0 ]] || { echo "[soak] FAIL: $conns1 connections still open" >&2; status=1; }
if ((iperf_fails + short_fails + echo_fails > 0)); then
  echo "[soak] FAIL: failed runs: iperf3 $iperf_fails, loadgen $short_fails, echo $echo_fails" >&2
  if [[ -f $TT_DIR/iperf.err ]]; then
    cat "$TT_DIR/iperf.err" >&2
    echo "tuntcp's connections when iperf3 hung:" >&2
    grep '<->' "$TT_LOG" | tail -n 20 >&2 || true
  fi
  grep -v '^ok' "$TT_DIR/loadgen.err" | tail -n 5 >&2 || true
  status=1
fi
((iperf_runs > 0 && short_conns > 0 && echo_n > 0)) || { echo "[soak] FAIL: some load never ran" >&2; status=1; }
[[ $status -eq 0 ]] && tt_log passed
exit $status
