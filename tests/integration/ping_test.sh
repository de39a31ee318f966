#!/usr/bin/env bash
# ping -c 200 -i 0.002 gets every reply, for the queue/worker counts given as arguments.
# Usage: ping_test.sh QUEUES WORKERS [more tuntcp flags...]
source "$(dirname "$0")/lib.sh"
queues=$1 workers=$2
shift 2
tt_setup
tt_start --queues "$queues" --workers "$workers" "$@"
tt_ping_ok 200 -i 0.002
# Many flows at once: several pings in parallel, each its own identifier.
pids=()
for i in 1 2 3 4; do tt_ns ping -n -q -c 100 -i 0.002 -W 1 "$TT_ADDR" >"$TT_DIR/p$i" 2>&1 & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || true; done
for i in 1 2 3 4; do grep -q ' 100 received, 0% packet loss' "$TT_DIR/p$i" || tt_fail "parallel ping $i lost packets: $(cat "$TT_DIR/p$i")"; done
tt_stop
tt_expect icmp_echo_replies -ge 600
tt_expect read_errors -eq 0
tt_expect drop_tx_error -eq 0
tt_log "passed (queues=$queues workers=$workers $*)"
