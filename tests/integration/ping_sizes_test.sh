#!/usr/bin/env bash
# Echo replies for the smallest and the largest payload the MTU allows, and a larger MTU.
source "$(dirname "$0")/lib.sh"
tt_setup
tt_start --queues 2 --workers 2
tt_ping_ok 20 -i 0.01 -s 0
tt_ping_ok 20 -i 0.01 -s 1472 -M do
tt_ping_ok 20 -i 0.01 -s 56 -p a5
tt_stop
tt_expect icmp_echo_replies -ge 60
tt_expect drop_ip_bad_total_length -eq 0

tt_log "MTU 9000"
tt_start --queues 1 --workers 2 --mtu 9000
[[ $(ip -n "$TT_NS" link show dev "$TT_DEV" | grep -o 'mtu [0-9]*') == "mtu 9000" ]] || tt_fail "MTU not set"
tt_ping_ok 20 -i 0.01 -s 8972 -M do
tt_ping_ok 20 -i 0.01 -s 4000
tt_stop
tt_expect icmp_echo_replies -ge 40

tt_log "MTU 65535"
tt_start --mtu 65535 --pool-buffers 512
tt_ping_ok 5 -i 0.05 -s 65507
tt_stop
tt_log passed
