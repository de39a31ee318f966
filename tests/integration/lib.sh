# Shared fixture for the integration tests: a private network namespace with tuntcp's TUN in
# it, the kernel's side at 198.18.0.1/24 and tuntcp at 198.18.0.2. Everything is created by the
# test and removed on exit, whatever happens; nothing touches the root namespace.
#
# Use:  source lib.sh; tt_setup; tt_start --queues 2; ...; tt_stop; tt_expect drops_total -eq 0
set -euo pipefail

: "${TUNTCP:?set TUNTCP to the tuntcp binary}"
NETPROBE=${NETPROBE:-$(dirname "$TUNTCP")/../tests/tools/tuntcp-netprobe}
TT_DEV=tt0
TT_HOST=198.18.0.1
TT_ADDR=198.18.0.2
TT_NAME=$(basename "${0%.sh}")
TT_NS="tt-${TT_NAME:0:16}-$$"
TT_DIR=$(mktemp -d "/tmp/tuntcp-${TT_NAME}.XXXXXX")
TT_LOG=$TT_DIR/tuntcp.log
TT_PID=
TT_RC=

tt_log() { echo "[$TT_NAME] $*"; }
tt_fail() {
  echo "[$TT_NAME] FAIL: $*" >&2
  if [[ -f $TT_LOG ]]; then echo "--- tuntcp output ---" >&2; tail -n 40 "$TT_LOG" >&2; fi
  exit 1
}

tt_cleanup() {
  if [[ -n $TT_PID ]] && kill -0 "$TT_PID" 2>/dev/null; then
    kill -KILL "$TT_PID" 2>/dev/null || true
    wait "$TT_PID" 2>/dev/null || true
  fi
  ip netns del "$TT_NS" 2>/dev/null || true
  rm -rf "$TT_DIR"
}

tt_setup() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "[$TT_NAME] skipped: needs root (network namespaces and TUN)"
    exit 77
  fi
  trap tt_cleanup EXIT
  ip netns add "$TT_NS"
  ip -n "$TT_NS" link set lo up
}

# Runs a command inside the test namespace.
tt_ns() { ip netns exec "$TT_NS" "$@"; }

# Starts tuntcp in the namespace with the default addresses plus "$@", and waits until the
# kernel side of the link is configured and up and tuntcp says it is serving (its threads are
# reading: a ping sent before could wait out a slow start-up and count as lost).
tt_start() {
  ip netns exec "$TT_NS" "$TUNTCP" --dev "$TT_DEV" --addr "$TT_ADDR" --host-addr "$TT_HOST/24" \
    "$@" >"$TT_LOG" 2>&1 &
  TT_PID=$!
  for _ in $(seq 1 100); do
    if ! kill -0 "$TT_PID" 2>/dev/null; then tt_fail "tuntcp exited during start-up"; fi
    if grep -q '^tuntcp: info: serving on ' "$TT_LOG" &&
       ip -n "$TT_NS" -4 addr show dev "$TT_DEV" 2>/dev/null | grep -q "inet $TT_HOST/" &&
       ip -n "$TT_NS" link show dev "$TT_DEV" 2>/dev/null | grep -q ',UP'; then
      return 0
    fi
    sleep 0.05
  done
  tt_fail "the TUN device did not come up within 5 s"
}

# Sends SIGTERM (or the given signal), waits for exit, keeps the exit status in TT_RC.
tt_stop() {
  local sig=${1:-TERM}
  kill -"$sig" "$TT_PID"
  local rc=0
  wait "$TT_PID" || rc=$?
  TT_PID=
  TT_RC=$rc
  [[ $rc -eq 0 ]] || tt_fail "tuntcp exited with $rc after SIG$sig"
  grep -q '^tuntcp summary' "$TT_LOG" || tt_fail "no summary printed at exit"
  local returned
  returned=$(awk '$1 == "buffers_returned" {print $2}' "$TT_LOG")
  [[ -n $returned && ${returned%/*} == "${returned#*/}" ]] || tt_fail "buffers not all returned: $returned"
}

# The value of a summary counter (0 when absent: the summary omits zero drop counters).
tt_counter() {
  local v
  v=$(awk -v k="$1" '$1 == k {print $2}' "$TT_LOG" | tail -n 1)
  echo "${v:-0}"
}

# tt_expect NAME OP VALUE, e.g. tt_expect drop_ip_bad_checksum -eq 50
tt_expect() {
  local v
  v=$(tt_counter "$1")
  # shellcheck disable=SC2086
  [ "$v" $2 "$3" ] || tt_fail "counter $1 = $v, expected $2 $3"
  tt_log "ok: $1 = $v ($2 $3)"
}

# ping with a loss check: tt_ping_ok COUNT [ping args...]
tt_ping_ok() {
  local count=$1
  shift
  local out
  out=$(tt_ns ping -n -q -c "$count" -W 1 "$@" "$TT_ADDR" 2>&1) || true
  echo "$out" | tail -n 2
  echo "$out" | grep -q " $count received, 0% packet loss" || tt_fail "ping lost packets: $out"
}

LOADGEN=${LOADGEN:-$(dirname "$NETPROBE")/tuntcp-loadgen}

# A file of N MiB of random bytes in the test's directory; prints its path.
tt_random_file() {
  local f=$TT_DIR/random-$1M
  head -c $(($1 * 1048576)) /dev/urandom >"$f"
  echo "$f"
}

# Fails if the kernel side of the namespace still has ESTABLISHED or CLOSE-WAIT sockets, or
# tuntcp's summary shows connections it had not closed (anything but CLOSED or TIME-WAIT).
tt_expect_no_leftovers() {
  local left
  left=$(tt_ns ss -Htan state established state close-wait 2>/dev/null | wc -l)
  [[ $left -eq 0 ]] || tt_fail "kernel still has $left ESTABLISHED/CLOSE-WAIT sockets: $(tt_ns ss -tan)"
  local s
  for s in syn_sent syn_received established fin_wait_1 fin_wait_2 close_wait closing last_ack; do
    tt_expect "tcp_at_exit_$s" -eq 0 >/dev/null
  done
  tt_log "ok: no connection left behind"
}
