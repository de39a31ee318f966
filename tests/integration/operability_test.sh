#!/usr/bin/env bash
# Operability: --pcap (checked with tshark), --user (keeps serving without privileges),
# --attach (an existing persistent TUN, its configuration left alone), --stats-json and the
# SIGUSR1 dump.
source "$(dirname "$0")/lib.sh"
tt_setup

tt_log "--pcap: handshake, data and FIN are in the capture"
pcap=$TT_DIR/capture.pcap
tt_start --pcap "$pcap" --queues 2 --workers 2
out=$(printf 'captured line\n' | timeout 10 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 7)
[[ $out == 'captured line' ]] || tt_fail "echo returned '$out'"
tt_ping_ok 3 -i 0.05
tt_stop
[[ $(tt_counter pcap_packets) -ge 10 ]] || tt_fail "pcap_packets = $(tt_counter pcap_packets)"
count() { tshark -r "$pcap" -Y "$1" 2>/dev/null | wc -l; }
[[ $(count 'tcp.port == 7 && tcp.flags.syn == 1 && tcp.flags.ack == 0') -eq 1 ]] || tt_fail "no SYN in the capture"
[[ $(count 'tcp.srcport == 7 && tcp.flags.syn == 1 && tcp.flags.ack == 1') -eq 1 ]] || tt_fail "no SYN-ACK in the capture"
[[ $(count 'tcp.dstport == 7 && tcp.len == 14') -ge 1 ]] || tt_fail "no data to tuntcp in the capture"
[[ $(count 'tcp.srcport == 7 && tcp.len == 14') -ge 1 ]] || tt_fail "no echoed data in the capture"
[[ $(count 'tcp.srcport == 7 && tcp.flags.fin == 1') -ge 1 ]] || tt_fail "no FIN from tuntcp in the capture"
[[ $(count 'tcp.dstport == 7 && tcp.flags.fin == 1') -ge 1 ]] || tt_fail "no FIN from the kernel in the capture"
[[ $(count 'icmp.type == 0') -eq 3 ]] || tt_fail "expected 3 echo replies in the capture"

tt_log "--user nobody: no uid 0, no capabilities, still serving"
tt_start --user nobody --queues 2 --workers 2
for _ in $(seq 1 100); do grep -q 'running as nobody' "$TT_LOG" && break; sleep 0.05; done
status=/proc/$TT_PID/status
grep -q $'^Uid:\t65534\t65534\t65534\t65534' "$status" || tt_fail "not running as nobody: $(grep Uid "$status")"
grep -q $'^CapEff:\t0000000000000000' "$status" || tt_fail "capabilities left: $(grep Cap "$status")"
tt_ping_ok 20 -i 0.01
out=$(printf 'after the drop\n' | timeout 10 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 7)
[[ $out == 'after the drop' ]] || tt_fail "echo after dropping privileges returned '$out'"
tt_stop

tt_log "--attach: an existing persistent device keeps its configuration"
tt_ns ip tuntap add tta mode tun multi_queue
tt_ns ip addr add "$TT_HOST/24" dev tta
tt_ns ip link set tta mtu 1400 up
ip netns exec "$TT_NS" "$TUNTCP" --dev tta --attach --addr "$TT_ADDR" --queues 2 >"$TT_LOG" 2>&1 &
TT_PID=$!
sleep 0.5
tt_ping_ok 20 -i 0.01 -s 1372 -M do
out=$(printf 'attached\n' | timeout 10 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 7)
[[ $out == attached ]] || tt_fail "echo through the attached device returned '$out'"
tt_stop
tt_ns ip -4 addr show dev tta | grep -q "inet $TT_HOST/24" || tt_fail "the attached device lost its address"
tt_ns ip link show dev tta | grep -q 'mtu 1400' || tt_fail "the attached device's MTU changed"
tt_ns ip tuntap del tta mode tun multi_queue

tt_log "--stats-json and SIGUSR1"
json=$TT_DIR/stats.jsonl
tt_start --stats-interval 0.2 --stats-json "$json" --queues 2 --workers 2
(sleep 1.5 | timeout 10 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 9) &
holder=$!
sleep 0.5
kill -USR1 "$TT_PID"
sleep 0.5
wait "$holder" || true
tt_stop
grep -q 'counters per thread' "$TT_LOG" || tt_fail "SIGUSR1 printed no counters"
grep -q 'ESTABLISHED' "$TT_LOG" || tt_fail "SIGUSR1 printed no connection table"
lines=$(wc -l <"$json")
[[ $lines -ge 4 ]] || tt_fail "expected at least 4 JSON lines, got $lines"
bad=$(grep -cv '^{"time":.*"rx_gbps":.*"cpu_percent":{.*}}$' "$json" || true)
[[ $bad -eq 0 ]] || tt_fail "$bad malformed JSON lines: $(head -n 2 "$json")"
grep -q '\[ *[0-9.]*s\] rx .* cpu r0 [0-9]*% r1 [0-9]*% w0' "$TT_LOG" || tt_fail "no per-thread CPU in the live view"
tt_log passed
