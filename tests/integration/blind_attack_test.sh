#!/usr/bin/env bash
# RFC 5961 blind in-window attacks on a live connection. A paced echo client (netprobe
# echo-client: 2 MiB of random bytes, 32 KiB at a time, each echo read back before a 50 ms
# pause) runs against tuntcp's echo service while netprobe sniffs the TUN, learns the
# connection's sequence numbers and, at a quiet moment, injects segments spoofed as the client
# (one connection per attack):
#   rst-inwindow, syn-inwindow, data-badack, data-oldack: tuntcp answers with challenge ACKs and
#     the connection lives on; the echoed bytes equal the sent ones (the injected data was not
#     delivered) and no segment of tuntcp acknowledges bytes the client did not send;
#   rst-outwindow: dropped without an answer, the connection lives on;
#   1000 x rst-inwindow: the challenge ACKs stop at the limit (RFC 5961 7: per second and
#     connection; --challenge-ack-limit 300 here, the Linux default is 1000);
#   ts-badack: data-badack with a TSval far ahead must not become TS.Recent, or PAWS drops the
#     real client's segments (TS.Recent is updated only after the ACK check, as in Linux);
#   rst-exact (the control, which proves the probe's sequence numbers are the real ones): the
#     connection is reset, the client sees ECONNRESET before the end of its transfer.
# Every injected datagram goes out on the TUN inside the test's own namespace.
# shellcheck source=/dev/null  # lib.sh: the shared fixture (its tt_expect is beyond shellcheck's parser)
source "$(dirname "$0")/lib.sh"
tt_setup
tt_start --queues 2 --workers 2 --challenge-ack-limit 300
payload=$(tt_random_file 2)
size=$(stat -c %s "$payload")
want=$(sha256sum <"$payload" | cut -d' ' -f1)
COUNT=5
export TT_DPORT=7

# The value of NAME in netprobe's "name value ..." line in FILE.
field() { awk -v k="$1" '{for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1)}' "$2"; }

# attack KIND COUNT: one connection, COUNT segments of one attack on it. Leaves the client's
# exit status in CLIENT_RC, its output in $TT_DIR/client-KIND-COUNT, the echoed bytes in
# echo-KIND-COUNT and the probe's line in $TT_DIR/probe-KIND-COUNT.
attack() {
  local kind=$1 count=$2 probe_pid client_pid rc=0
  local probe=$TT_DIR/probe-$kind-$count client=$TT_DIR/client-$kind-$count
  rm -f "$probe" "$probe.err"
  tt_ns "$NETPROBE" blind "$TT_DEV" "$kind" "$count" >"$probe" 2>"$probe.err" &
  probe_pid=$!
  for _ in $(seq 1 100); do  # the probe must sniff before the client's SYN
    grep -q '^ready' "$probe.err" && break
    kill -0 "$probe_pid" 2>/dev/null || break
    sleep 0.05
  done
  grep -q '^ready' "$probe.err" || tt_fail "netprobe blind $kind did not start: $(cat "$probe.err")"
  timeout 30 ip netns exec "$TT_NS" "$NETPROBE" echo-client 7 "$payload" "$TT_DIR/echo-$kind-$count" \
    >"$client" 2>&1 &
  client_pid=$!
  wait "$probe_pid" || rc=$?
  [[ $rc -eq 0 ]] || tt_fail "netprobe blind $kind exited with $rc: $(cat "$probe.err")"
  CLIENT_RC=0
  wait "$client_pid" || CLIENT_RC=$?
  tt_log "$(cat "$probe"); client: $(cat "$client")"
  [[ $(field wscale "$probe") -ge 0 ]] || tt_fail "netprobe blind $kind missed the handshake: $(cat "$probe.err")"
}

start=$SECONDS
challenges=0
# survives KIND COUNT MIN MAX: the attack leaves the connection and its data intact and draws
# MIN..MAX challenge ACKs.
survives() {
  local kind=$1 count=$2 min=$3 max=$4 c got
  local out=$TT_DIR/probe-$kind-$count echo=$TT_DIR/echo-$kind-$count
  attack "$kind" "$count"
  [[ $CLIENT_RC -eq 0 ]] || tt_fail "$kind: the connection did not survive: $(cat "$TT_DIR/client-$kind-$count")"
  got=$(sha256sum <"$echo" | cut -d' ' -f1)
  [[ $got == "$want" ]] || tt_fail "$kind: the echoed bytes differ from the sent ones ($(stat -c %s "$echo") of $size bytes): injected data was delivered"
  [[ $(field resets "$out") -eq 0 ]] || tt_fail "$kind: tuntcp sent a RST"
  [[ $(field bogus_acked "$out") -eq 0 ]] || tt_fail "$kind: tuntcp acknowledged injected data"
  [[ $(field bogus_tsecr "$out") -eq 0 ]] || tt_fail "$kind: tuntcp echoes the injected TSval (TS.Recent took it)"
  [[ $(field acked_new "$out") -ge 1 ]] || tt_fail "$kind: tuntcp acknowledged no client data after the attack"
  c=$(field challenge_acks "$out")
  [[ $c -ge $min && $c -le $max ]] || tt_fail "$kind: $c challenge ACKs for $count segments (expected $min..$max)"
  challenges=$((challenges + c))
}
for kind in rst-inwindow syn-inwindow data-badack data-oldack; do
  survives "$kind" "$COUNT" 1 "$COUNT"
done
survives rst-outwindow "$COUNT" 0 0
survives rst-inwindow 1000 300 300
# A spoofed segment at RCV.NXT with a bad ACK and a TSval far ahead: before the fix TS.Recent
# took its TSval and PAWS then dropped every later segment of the client (a stall).
survives ts-badack "$COUNT" 1 "$COUNT"

attack rst-exact 1
out=$TT_DIR/probe-rst-exact-1
client=$TT_DIR/client-rst-exact-1
[[ $CLIENT_RC -ne 0 ]] || tt_fail "rst-exact: the connection survived a RST at RCV.NXT: $(cat "$client")"
grep -q '^reset ' "$client" || tt_fail "rst-exact: the client did not see a reset: $(cat "$client")"
received=$(awk '{print $NF}' "$client")
[[ $received -lt $size ]] || tt_fail "rst-exact: the whole transfer went through"
[[ $(field challenge_acks "$out") -eq 0 ]] || tt_fail "rst-exact: a RST at RCV.NXT was answered with a challenge ACK"
[[ $(field acked_new "$out") -eq 0 ]] || tt_fail "rst-exact: tuntcp acknowledged client data after the RST"
[[ $(field resets "$out") -ge 1 ]] || tt_fail "rst-exact: tuntcp did not answer the client's next segment with RST"
tt_log "attacks done in $((SECONDS - start)) s; $challenges challenge ACKs seen"

tt_stop
tt_expect tcp_closed_reset -eq 1
# Every challenge ACK tuntcp counted was seen on the wire, and nothing else passed for one.
tt_expect tcp_challenge_acks -eq "$challenges"
tt_expect drop_tcp_bad_checksum -eq 0
tt_expect drop_tcp_malformed -eq 0
tt_expect_no_leftovers
tt_log passed
