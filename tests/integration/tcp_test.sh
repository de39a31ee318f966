#!/usr/bin/env bash
# TCP with the Linux kernel as the peer, for QUEUES/WORKERS given as arguments:
# nc line exchange with echo; 50 MB of random data through echo (sha256 equal); 200 MB from the
# kernel to discard; 100 MB from tuntcp (client mode) to a kernel `nc -l` (sha256 equal); a
# closed port refused at once; 2000 sequential and 500 concurrent echo connections. After each
# part: no ESTABLISHED/CLOSE-WAIT leftovers on either side.
source "$(dirname "$0")/lib.sh"
queues=$1 workers=$2
shift 2
extra=("$@")  # more tuntcp flags, e.g. --offload off
tt_setup
tt_start --queues "$queues" --workers "$workers" --time-wait 1 "${extra[@]}"

tt_log "nc line exchange with echo"
out=$(printf 'hello tuntcp\nsecond line\n' | timeout 10 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 7)
[[ $out == $'hello tuntcp\nsecond line' ]] || tt_fail "echo returned '$out'"

tt_log "50 MB through echo"
f=$(tt_random_file 50)
want=$(sha256sum <"$f" | cut -d' ' -f1)
got=$(timeout 60 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 7 <"$f" | sha256sum | cut -d' ' -f1)
[[ $got == "$want" ]] || tt_fail "echo: sha256 $got != $want"

tt_log "200 MB from the kernel to discard"
start=$(date +%s.%N)
head -c 200000000 /dev/zero | timeout 60 ip netns exec "$TT_NS" nc -N "$TT_ADDR" 9 || tt_fail "nc to discard failed"
tt_log "discard: $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f Gbit/s", 1.6 / (e - s)}')"

tt_log "a closed port is refused at once"
start=$(date +%s%N)
out=$(timeout 5 ip netns exec "$TT_NS" nc -v -z "$TT_ADDR" 1234 2>&1) && tt_fail "connect to a closed port succeeded"
ms=$((($(date +%s%N) - start) / 1000000))
[[ $out == *refused* ]] || tt_fail "closed port: expected 'Connection refused', got '$out'"
[[ $ms -lt 1000 ]] || tt_fail "closed port took $ms ms to refuse"

tt_log "2000 sequential short connections"
timeout 120 ip netns exec "$TT_NS" "$LOADGEN" sequential "$TT_ADDR" 7 2000 200 || tt_fail "sequential connections failed"
tt_log "500 concurrent echo connections"
timeout 120 ip netns exec "$TT_NS" "$LOADGEN" concurrent "$TT_ADDR" 7 500 2000 || tt_fail "concurrent connections failed"

sleep 0.3  # let the last FIN/ACKs cross
tt_stop
tt_expect tcp_passive_opens -ge 2503
tt_expect tcp_closed_reset -eq 0
tt_expect tcp_refused -ge 1
tt_expect tcp_bytes_in -ge 252428800
tt_expect drop_tcp_bad_checksum -eq 0
tt_expect_no_leftovers

tt_log "100 MB from tuntcp (client mode) to a kernel nc -l"
f=$(tt_random_file 100)
want=$(sha256sum <"$f" | cut -d' ' -f1)
ip netns exec "$TT_NS" timeout 60 nc -l 5000 >"$TT_DIR/received" </dev/null &
nc_pid=$!
sleep 0.2
rc=0
timeout 60 ip netns exec "$TT_NS" "$TUNTCP" --dev "$TT_DEV" --addr "$TT_ADDR" --host-addr "$TT_HOST/24" \
  --queues "$queues" --workers "$workers" "${extra[@]}" --services none --connect "$TT_HOST:5000" --send-file "$f" \
  >"$TT_LOG" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || tt_fail "client mode exited $rc"
grep '^client:' "$TT_LOG"
wait "$nc_pid" || tt_fail "nc -l failed"
got=$(sha256sum <"$TT_DIR/received" | cut -d' ' -f1)
[[ $got == "$want" ]] || tt_fail "client mode: sha256 $got != $want"
# With --tx-zero-copy on the TSO segments went out from the send ring itself.
[[ " ${extra[*]} " == *" --tx-zero-copy on "* ]] && tt_expect tx_zero_copy -gt 0
tt_expect_no_leftovers
tt_log "passed (queues=$queues workers=$workers ${extra[*]})"
