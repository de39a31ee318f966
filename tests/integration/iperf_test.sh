#!/usr/bin/env bash
# Stock iperf3 (3.12) and iperf (2.1.8) clients against tuntcp's iperf3 (5201) and iperf2
# (5001) services, 2-second runs. Four tuntcp sessions, each checked against its summary:
#   1. iperf3 -J: plain, -P 4, -R, --bidir, -n. The client's sender and receiver totals agree
#      (exactly where tuntcp receives; within 5% where it sends, as with iperf3's own server,
#      whose count includes what was still in flight at TEST_END), and tuntcp's tcp_bytes_in
#      is what the clients sent plus the small control messages.
#   2. iperf3 robustness: plain text output, a second client while a test runs ("the server is
#      busy"), clients killed mid-test, garbage on the control port (bad JSON, huge length,
#      wrong messages, random bytes), -O, UDP refused; a normal test works after each.
#   3. iperf -c and -P 2: tcp_bytes_in equals the bytes the clients report (-y C).
#   4. iperf -R, --full-duplex, -d, -r: tuntcp sends, on the same connection or on one it
#      opens back to the client.
# No connection may be left behind in any session.
source "$(dirname "$0")/lib.sh"
for tool in iperf3 iperf jq nc od; do
  command -v "$tool" >/dev/null || tt_fail "$tool is missing: tests/run.sh installs it (tests/lib/deps.sh)"
done
tt_setup
SERVICES=discard,echo,chargen,iperf3,iperf2

gbps() { awk -v b="$1" 'BEGIN {printf "%.2f Gbit/s", b / 1e9}'; }

# iperf3 -J "$@" in the namespace; the JSON lands in $J and must show no error.
J=$TT_DIR/iperf3.json
iperf3_json() {
  local rc=0
  timeout 60 ip netns exec "$TT_NS" iperf3 -c "$TT_ADDR" -J "$@" >"$J" 2>&1 || rc=$?
  jq -e . "$J" >/dev/null 2>&1 || tt_fail "iperf3 $*: output is not JSON: $(head -c 300 "$J")"
  [[ $rc -eq 0 && $(jq -r '.error // empty' "$J") == "" ]] ||
    tt_fail "iperf3 $* exited $rc: $(jq -r '.error // empty' "$J")"
}
jv() { jq -r "$1" "$J"; }

# Where tuntcp receives: the client's sender total equals the receiver total tuntcp reported.
expect_exact() {  # label sent received
  [[ $2 -gt 0 && $2 -eq $3 ]] || tt_fail "$1: client sent $2 bytes, tuntcp reports $3 received"
}
# The same for the totals of the last iperf3_json run.
expect_exact_totals() { expect_exact "$1" "$(jv .end.sum_sent.bytes)" "$(jv .end.sum_received.bytes)"; }
# Where tuntcp sends: it reports what it handed to TCP until TEST_END; the client counts what
# it read until then. Both positive, the receiver no higher, the gap small.
expect_close() {  # label sent received
  [[ $3 -gt 0 && $3 -le $2 && $(($2 - $3)) -le $(($2 / 20)) ]] ||
    tt_fail "$1: tuntcp sent $2 bytes, the client received $3"
}

# --- 1. iperf3 results agree with tuntcp's own counts ---------------------------------------
tt_start --queues 2 --workers 3 --services "$SERVICES" --time-wait 1
client_sent=0 client_received=0 runs=0

iperf3_json -t 2
sent=$(jv .end.sum_sent.bytes) recv=$(jv .end.sum_received.bytes)
expect_exact "iperf3 -c" "$sent" "$recv"
tt_log "iperf3 -c -t 2: $(gbps "$(jv .end.sum_received.bits_per_second)") (sender = receiver = $sent bytes)"
client_sent=$((client_sent + sent)) runs=$((runs + 1))

iperf3_json -t 2 -P 4
sent=$(jv .end.sum_sent.bytes) recv=$(jv .end.sum_received.bytes)
[[ $(jv '.end.streams | length') -eq 4 ]] || tt_fail "-P 4: $(jv '.end.streams | length') streams"
expect_exact "iperf3 -P 4" "$sent" "$recv"
for i in 0 1 2 3; do
  expect_exact "iperf3 -P 4 stream $i" "$(jv ".end.streams[$i].sender.bytes")" \
    "$(jv ".end.streams[$i].receiver.bytes")"
done
tt_log "iperf3 -P 4: $(gbps "$(jv .end.sum_received.bits_per_second)")"
client_sent=$((client_sent + sent)) runs=$((runs + 1))

iperf3_json -t 2 -R
sent=$(jv .end.sum_sent.bytes) recv=$(jv .end.sum_received.bytes)
expect_close "iperf3 -R" "$sent" "$recv"
[[ $(jv .end.sum_sent.retransmits) != null ]] || tt_fail "-R: tuntcp reported no retransmit count"
tt_log "iperf3 -R: $(gbps "$(jv .end.sum_received.bits_per_second)")" \
  "(tuntcp sent $sent bytes, the client received $recv)"
client_received=$((client_received + recv)) runs=$((runs + 1))

iperf3_json -t 2 --bidir
sent=$(jv .end.sum_sent.bytes) recv=$(jv .end.sum_received.bytes)
expect_exact "iperf3 --bidir (client to tuntcp)" "$sent" "$recv"
client_sent=$((client_sent + sent))
sent=$(jv .end.sum_sent_bidir_reverse.bytes) recv=$(jv .end.sum_received_bidir_reverse.bytes)
expect_close "iperf3 --bidir (tuntcp to client)" "$sent" "$recv"
client_received=$((client_received + recv)) runs=$((runs + 1))
tt_log "iperf3 --bidir: $(gbps "$(jv .end.sum_received.bits_per_second)") in," \
  "$(gbps "$(jv .end.sum_received_bidir_reverse.bits_per_second)") out"

iperf3_json -n 200M -l 64K
sent=$(jv .end.sum_sent.bytes) recv=$(jv .end.sum_received.bytes)
expect_exact "iperf3 -n 200M" "$sent" "$recv"
# The client checks the count between bursts of writes, so it may send a block or so more.
[[ $sent -ge 209715200 ]] || tt_fail "-n 200M sent only $sent bytes"
client_sent=$((client_sent + sent)) runs=$((runs + 1))

sleep 0.5  # the last FIN/ACKs
tt_stop
# Besides the data: cookies, parameters, results and state bytes, under 4 KiB a test.
tt_expect tcp_bytes_in -ge "$client_sent"
tt_expect tcp_bytes_in -le $((client_sent + runs * 4096))
tt_expect tcp_bytes_out -ge "$client_received"
tt_expect tcp_conns_open -eq 0
tt_expect_no_leftovers

# --- 2. iperf3 robustness --------------------------------------------------------------------
tt_start --queues 1 --workers 2 --services "$SERVICES" --time-wait 1

out=$(timeout 30 ip netns exec "$TT_NS" iperf3 -c "$TT_ADDR" -t 2 2>&1) || tt_fail "iperf3 -c exited $?: $out"
grep -q 'sender$' <<<"$out" && grep -q 'receiver$' <<<"$out" && grep -q 'iperf Done' <<<"$out" ||
  tt_fail "iperf3 text report incomplete: $out"
tt_log "iperf3 -c (text):$(grep 'receiver$' <<<"$out" | awk '{print " " $(NF-2), $(NF-1)}')"

tt_log "a second client while a test runs is told the server is busy"
ip netns exec "$TT_NS" iperf3 -c "$TT_ADDR" -t 4 -J >"$TT_DIR/first.json" 2>&1 &
first=$!
sleep 1.5
rc=0; out=$(timeout 10 ip netns exec "$TT_NS" iperf3 -c "$TT_ADDR" -t 1 2>&1) || rc=$?
[[ $rc -ne 0 && $out == *"the server is busy"* ]] || tt_fail "second client: rc=$rc: $out"
wait "$first" || tt_fail "the first client failed: $(jq -r .error "$TT_DIR/first.json")"
J=$TT_DIR/first.json
expect_exact_totals "the first client"
J=$TT_DIR/iperf3.json

tt_log "clients killed mid-test leave nothing behind"
for opts in "-P 2" "-R" "--bidir"; do
  # shellcheck disable=SC2086
  ip netns exec "$TT_NS" iperf3 -c "$TT_ADDR" -t 30 $opts >/dev/null 2>&1 &
  victim=$!
  sleep 1.5
  kill -KILL "$victim"
  wait "$victim" 2>/dev/null || true
  iperf3_json -t 1
  expect_exact_totals "iperf3 after a killed $opts client"
done

tt_log "garbage on the control port is answered by a clean close"
cookie=$(printf 'x%.0s' $(seq 36))  # printf adds the NUL that makes it 37 bytes
garbage() {  # name, then the bytes on stdin; prints what tuntcp answered, as hex
  local reply rc=0
  reply=$(timeout 5 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 5201 | od -An -tx1 | tr -d ' \n') || rc=$?
  [[ $rc -eq 0 ]] || tt_fail "garbage '$1': the connection was not closed (rc $rc)"
  echo "$reply"
}
json_frame() { printf '%s\0\0\0\0\x'"$(printf %02x ${#1})"'%s' "$cookie" "$1"; }  # < 256 bytes
[[ $(printf '%s\0\xff\xff\xff\xff' "$cookie" | garbage "huge length") == 09 ]] || tt_fail "huge length"
[[ $(printf '%s\0\0\0\0\x05{bad}' "$cookie" | garbage "bad JSON") == 09 ]] || tt_fail "bad JSON"
[[ $(json_frame '{"udp":true,"parallel":1}' | garbage "UDP") == 09fe0000000d00000000 ]] ||
  tt_fail "UDP parameters: no SERVER_ERROR"
early_end() { json_frame '{"tcp":true,"time":1,"parallel":1}'; printf '\x04'; }
[[ $(early_end | garbage "early TEST_END") == 090a ]] || tt_fail "early TEST_END"
[[ $(printf 'abc' | garbage "short cookie") == "" ]] || tt_fail "short cookie"
head -c 100000 /dev/urandom | garbage "random bytes" >/dev/null
iperf3_json -t 1
expect_exact_totals "iperf3 after garbage"

iperf3_json -t 2 -O 1
[[ $(jv .end.sum_sent.bytes) -gt 0 && $(jv .end.sum_received.bytes) -gt 0 ]] || tt_fail "-O 1: no data"

rc=0; out=$(timeout 10 ip netns exec "$TT_NS" iperf3 -c "$TT_ADDR" -u -t 1 2>&1) || rc=$?
[[ $rc -ne 0 && $out == *"not implemented"* ]] || tt_fail "iperf3 -u: rc=$rc: $out"

sleep 0.5
tt_stop
tt_expect tcp_conns_open -eq 0
tt_expect_no_leftovers

# --- 3. iperf 2: tuntcp receives everything the clients say they sent ------------------------
# -y C: one CSV line per stream, the byte count in field 8 and the bit rate in field 9.
# The lines land in $out.
iperf2_csv() {
  local rc=0
  out=$(timeout 30 ip netns exec "$TT_NS" iperf -c "$TT_ADDR" -t 2 -y C "$@" 2>&1) || rc=$?
  [[ $rc -eq 0 ]] || tt_fail "iperf -c $* exited $rc: $out"
}
tt_start --queues 2 --workers 2 --services "$SERVICES" --time-wait 1
sent=0
iperf2_csv
[[ $(wc -l <<<"$out") -eq 1 ]] || tt_fail "iperf -c: $out"
bytes=$(cut -d, -f8 <<<"$out")
[[ $bytes -gt 0 ]] || tt_fail "iperf -c: no data: $out"
tt_log "iperf -c -t 2: $(gbps "$(cut -d, -f9 <<<"$out")")"
sent=$((sent + bytes))
iperf2_csv -P 2
[[ $(wc -l <<<"$out") -eq 2 ]] || tt_fail "iperf -P 2: $out"
rate=0
while IFS=, read -r _ _ _ _ _ _ _ b r; do
  [[ $b -gt 0 ]] || tt_fail "iperf -P 2: a stream without data: $out"
  sent=$((sent + b)) rate=$((rate + r))
done <<<"$out"
tt_log "iperf -P 2: $(gbps "$rate")"
sleep 0.5
tt_stop
tt_expect tcp_bytes_in -eq "$sent"
tt_expect tcp_conns_open -eq 0
tt_expect_no_leftovers

# --- 4. iperf 2 modes where tuntcp sends ---------------------------------------------------------
tt_start --queues 2 --workers 2 --services "$SERVICES" --time-wait 1
received=0
for opts in "-R" "--full-duplex" "-d" "-r"; do
  # shellcheck disable=SC2086
  iperf2_csv $opts
  # The lines of data tuntcp sent: from 198.18.0.2 on the client's connection or on the one
  # tuntcp opened back to the client's listener.
  from_tuntcp() { awk -F, -v a="$TT_ADDR" -v f="$1" '$2 == a {s += $f} END {printf "%.0f\n", s}' <<<"$out"; }
  b=$(from_tuntcp 8)
  [[ $b -gt 0 ]] || tt_fail "iperf $opts: tuntcp sent nothing: $out"
  received=$((received + b))
  tt_log "iperf $opts: tuntcp sent $(gbps "$(from_tuntcp 9)")"
done
sleep 0.5
tt_stop
tt_expect tcp_bytes_out -ge "$received"
tt_expect tcp_active_opens -eq 2
tt_expect tcp_conns_open -eq 0
tt_expect_no_leftovers
tt_log "passed"
