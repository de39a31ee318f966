#!/usr/bin/env bash
# Segments that carry SACK blocks fit the MTU (RFC 9293 3.7.1, RFC 6691), on a real path.
# The kernel's TCP client sits one router hop away: namespace C (198.18.1.2) reaches tuntcp
# (198.18.0.2) through the test namespace, which forwards between a veth of MTU 1500 and the TUN.
# A router drops a datagram with DF over the next link's MTU, and a TSO super-segment whose
# gso_size plus headers is over it (ip_exceeds_mtu), and answers ICMP "fragmentation needed":
# the router's IcmpOutDestUnreachs counts every segment that did not fit.
# Echo (port 7) of random data, with tuntcp's input reordered and delayed (--impair-in), so
# tuntcp receives out-of-order data and its echoed segments carry SACK blocks:
#   offload off: also tuntcp's own capture (--pcap): no datagram over 1500 bytes, and SACK
#                blocks seen in what it sent (the case was exercised);
#   offload on:  TSO super-segments whose gso_size must leave room for the SACK blocks.
# In both the bytes come back equal (sha256) and the router sent no ICMP error.
source "$(dirname "$0")/lib.sh"
for tool in nc tshark nstat sha256sum; do
  command -v "$tool" >/dev/null || tt_fail "$tool is missing: tests/run.sh installs it (tests/lib/deps.sh)"
done
tt_setup
CL="$TT_NS-c"
trap 'ip netns del "$CL" 2>/dev/null || true; tt_cleanup' EXIT
ip netns add "$CL"
ip -n "$CL" link set lo up
ip link add tt-r type veth peer name tt-c netns "$CL"
ip link set tt-r netns "$TT_NS"
ip -n "$TT_NS" addr add 198.18.1.1/24 dev tt-r
ip -n "$TT_NS" link set tt-r up mtu 1500
ip -n "$CL" addr add 198.18.1.2/24 dev tt-c
ip -n "$CL" link set tt-c up mtu 1500
ip -n "$CL" route add default via 198.18.1.1
tt_ns sysctl -qw net.ipv4.ip_forward=1

SIZE=$((6 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$TT_DIR/in"
want=$(sha256sum <"$TT_DIR/in" | cut -d' ' -f1)
unreach() { tt_ns nstat -az IcmpOutDestUnreachs | awk '$1 == "IcmpOutDestUnreachs" {print $2}'; }

for offload in off on; do
  pcap=$TT_DIR/out-$offload.pcap
  tt_start --offload "$offload" --services echo --impair-in reorder=10%,delay=2ms --pcap "$pcap"
  before=$(unreach)
  got=$(timeout 120 ip netns exec "$CL" nc -N "$TT_ADDR" 7 <"$TT_DIR/in" | sha256sum | cut -d' ' -f1) ||
    tt_fail "offload $offload: the echo did not finish in 120 s"
  [[ $got == "$want" ]] || tt_fail "offload $offload: $SIZE bytes echoed, sha256 differs"
  errors=$(($(unreach) - before))
  tt_stop
  sacked=$(tshark -r "$pcap" -Y 'ip.src == 198.18.0.2 && tcp.len > 0 && tcp.options.sack' 2>/dev/null | wc -l)
  [[ $sacked -gt 0 ]] || tt_fail "offload $offload: no data segment with SACK blocks: the case was not exercised"
  [[ $errors -eq 0 ]] ||
    tt_fail "offload $offload: the router answered $errors segment(s) with ICMP: over the MTU of 1500"
  if [[ $offload == off ]]; then
    over=$(tshark -r "$pcap" -Y 'ip.src == 198.18.0.2 && ip.len > 1500' 2>/dev/null | wc -l)
    [[ $over -eq 0 ]] || tt_fail "offload off: $over datagram(s) over 1500 bytes in tuntcp's capture"
  fi
  tt_log "offload $offload: $SIZE bytes echoed intact through a router, $sacked data segments with SACK blocks, none over the MTU"
done
tt_log "PASS"
