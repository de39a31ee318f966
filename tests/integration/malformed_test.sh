#!/usr/bin/env bash
# Malformed datagrams injected from the kernel side (AF_PACKET on the TUN) are counted as
# drops, each under its own reason, while ping keeps working.
source "$(dirname "$0")/lib.sh"
tt_setup
tt_start --queues 2 --workers 2
tt_ns ping -n -q -c 300 -i 0.005 -W 1 "$TT_ADDR" >"$TT_DIR/ping" 2>&1 &
ping_pid=$!
declare -A expect=(
  [bad-checksum]=drop_ip_bad_checksum
  [bad-ihl]=drop_ip_bad_ihl
  [ihl-beyond-packet]=drop_ip_bad_ihl
  [short-total-length]=drop_ip_bad_total_length
  [long-total-length]=drop_ip_bad_total_length
  [truncated]=drop_ip_truncated
  [bad-version]=drop_ip_not_ipv4
  [fragment]=drop_ip_fragment
  [bad-icmp-checksum]=drop_icmp_bad_checksum
  [bad-source]=drop_ip_bad_source
  [not-for-us]=drop_ip_not_for_us
)
for kind in "${!expect[@]}"; do
  tt_ns "$NETPROBE" inject "$TT_DEV" "$kind" 50 >/dev/null || tt_fail "netprobe inject $kind failed"
done
wait "$ping_pid" || true
grep -q ' 300 received, 0% packet loss' "$TT_DIR/ping" || tt_fail "ping lost packets during injection: $(cat "$TT_DIR/ping")"
tt_stop
tt_expect drop_ip_bad_checksum -eq 50
tt_expect drop_ip_bad_ihl -eq 100
tt_expect drop_ip_bad_total_length -eq 100
tt_expect drop_ip_truncated -eq 50
tt_expect drop_ip_fragment -eq 50
tt_expect drop_icmp_bad_checksum -eq 50
tt_expect drop_ip_bad_source -eq 50
tt_expect drop_ip_not_for_us -eq 50
# IPv6 router solicitations from the kernel land in the same counter as bad-version datagrams.
tt_expect drop_ip_not_ipv4 -ge 50
tt_expect icmp_echo_replies -ge 300
tt_log passed
