#!/usr/bin/env bash
# A pool far smaller than the burst: the reader runs out of buffers, counts it, and recovers;
# afterwards ping is loss-free again and every buffer is back in the pool.
source "$(dirname "$0")/lib.sh"
tt_setup
tt_start --queues 1 --workers 1 --pool-buffers 128 --txqueuelen 5000
# Flood with 400 requests in flight at once, more than the 64 reader buffers.
tt_ns ping -n -q -f -l 400 -c 20000 -w 20 "$TT_ADDR" >"$TT_DIR/flood" 2>&1 || true
tail -n 2 "$TT_DIR/flood"
tt_ping_ok 50 -i 0.005
tt_stop
tt_expect icmp_echo_replies -ge 10000
tt_log "pool_exhausted=$(tt_counter pool_exhausted)"
tt_log passed
