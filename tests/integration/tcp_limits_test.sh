#!/usr/bin/env bash
# --max-connections, --max-memory and --backlog refuse cleanly: beyond the connection or
# memory limit a SYN gets RST (the client sees "Connection refused" at once); beyond the backlog
# of half-open connections SYNs are dropped and counted (with --syncookies off; the cookies are
# syn_flood_test.sh's), and connections already set up keep working.
source "$(dirname "$0")/lib.sh"
tt_setup
tt_start --queues 2 --workers 2 --max-connections 20 --backlog 5 --time-wait 0.2 --syncookies off

tt_log "20 concurrent connections fit, the 21st is refused"
timeout 30 ip netns exec "$TT_NS" "$LOADGEN" concurrent "$TT_ADDR" 7 20 100 || tt_fail "20 connections under a limit of 20 failed"
sleep 0.5  # TIME-WAIT (0.2 s) ends: the slots are free again
out=$(timeout 30 ip netns exec "$TT_NS" "$LOADGEN" concurrent "$TT_ADDR" 7 21 100 2>&1) && tt_fail "21 connections under a limit of 20 succeeded"
[[ $out == *"Connection refused"* ]] || tt_fail "expected a refusal, got: $out"
sleep 0.5

tt_log "half-open connections beyond the backlog are dropped"
# SYNs from an address nobody in the namespace owns: the SYN-ACKs go unanswered, so the
# connections stay in SYN-RECEIVED. All hash to one or two workers: backlog 5 per listener per
# worker, so at most 10 are accepted.
TT_SRC=198.18.0.77 tt_ns "$NETPROBE" syn "$TT_DEV" 9 40 >/dev/null
sleep 0.3
tt_log "a real connection still works meanwhile"
out=$(echo ping | timeout 10 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 7) || true
[[ $out == ping ]] || tt_fail "echo during the SYN backlog overflow returned '$out'"
tt_stop
tt_expect tcp_refused_max_conns -ge 1
tt_expect tcp_syn_backlog_drops -ge 30
tt_expect tcp_syn_backlog_drops -le 35

tt_log "--max-memory 2: the buffers of 4 connections (256 KiB + 256 KiB each) fit, a 5th is refused"
tt_start --queues 2 --workers 2 --max-memory 2
timeout 30 ip netns exec "$TT_NS" "$LOADGEN" concurrent "$TT_ADDR" 7 4 100 || tt_fail "4 connections under --max-memory 2 failed"
sleep 0.3  # the clients closed first: no TIME-WAIT here, the buffers are free again
out=$(timeout 30 ip netns exec "$TT_NS" "$LOADGEN" concurrent "$TT_ADDR" 7 5 100 2>&1) && tt_fail "5 connections under --max-memory 2 succeeded"
[[ $out == *"Connection refused"* ]] || tt_fail "expected a refusal, got: $out"
tt_stop
tt_expect tcp_refused_memory -ge 1
tt_expect tcp_refused_max_conns -eq 0
tt_log passed
