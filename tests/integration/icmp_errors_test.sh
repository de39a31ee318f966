#!/usr/bin/env bash
# Protocols tuntcp does not serve get ICMP protocol-unreachable; UDP gets port-unreachable (as
# Linux answers); both are rate-limited by a token bucket.
source "$(dirname "$0")/lib.sh"
tt_setup
tt_start --icmp-ratelimit 1000 --icmp-burst 50
out=$(tt_ns "$NETPROBE" unreachable "$TT_DEV" 253 5)
[[ $out == "replies 5 code 2" ]] || tt_fail "protocol 253: expected 5 protocol-unreachable replies, got '$out'"
out=$(tt_ns "$NETPROBE" unreachable "$TT_DEV" 17 5)
[[ $out == "replies 5 code 3" ]] || tt_fail "UDP: expected 5 port-unreachable replies, got '$out'"
tt_stop
tt_expect icmp_errors_sent -eq 10

tt_log "rate limit: burst 10, 5/s"
tt_start --icmp-ratelimit 5 --icmp-burst 10
out=$(tt_ns "$NETPROBE" unreachable "$TT_DEV" 253 200)
n=$(echo "$out" | awk '{print $2}')
[[ $n -ge 10 && $n -le 12 ]] || tt_fail "expected about 10 replies under the limit, got '$out'"
tt_stop
tt_expect drop_icmp_error_ratelimited -ge 188
tt_log passed
