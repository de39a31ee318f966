#!/usr/bin/env bash
# Start-up errors exit with one clear line and the right status; SIGINT and SIGTERM exit 0 with
# the summary and every buffer returned; --duration ends the run by itself.
source "$(dirname "$0")/lib.sh"
tt_setup

tt_log "bad flag values exit 2"
for args in "--queues 0" "--mtu 100" "--addr 1.2.3" "--host-addr 10.0.0.1" "--no-such-flag"; do
  rc=0; out=$("$TUNTCP" $args 2>&1) || rc=$?
  [[ $rc -eq 2 ]] || tt_fail "'$args' exited $rc, expected 2"
  [[ $(echo "$out" | wc -l) -eq 1 && $out == *error* ]] || tt_fail "'$args' did not print one error line: $out"
done
[[ $("$TUNTCP" --help) == *--stats-interval* ]] || tt_fail "--help does not list the flags"

tt_log "no privileges exit 1 with a hint"
rc=0; out=$(tt_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
  "$TUNTCP" --dev tt9 2>&1) || rc=$?
[[ $rc -eq 1 ]] || tt_fail "unprivileged run exited $rc, expected 1: $out"
[[ $out == *CAP_NET_ADMIN* ]] || tt_fail "unprivileged run did not say what to do: $out"

tt_log "no /dev/net/tun exits 1 with a hint"
rc=0; out=$(tt_ns unshare --mount sh -c "mount -t tmpfs none /dev/net && exec \"$TUNTCP\" --dev tt9" 2>&1) || rc=$?
[[ $rc -eq 1 ]] || tt_fail "missing /dev/net/tun exited $rc, expected 1: $out"
[[ $out == */dev/net/tun* && $out == *modprobe* ]] || tt_fail "missing /dev/net/tun: unclear message: $out"

tt_log "SIGTERM"
tt_start --queues 2 --workers 2
tt_ping_ok 10 -i 0.01
tt_stop TERM
grep -q 'icmp_echo_replies' "$TT_LOG" || tt_fail "summary lacks counters"

tt_log "SIGINT"
tt_start --queues 2 --workers 3 --read-mode single
tt_ping_ok 10 -i 0.01
tt_stop INT

tt_log "--duration and --stats-interval"
rc=0
tt_ns "$TUNTCP" --dev "$TT_DEV" --host-addr "$TT_HOST/24" --duration 1.5 --stats-interval 0.5 >"$TT_LOG" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || tt_fail "--duration run exited $rc"
lines=$(grep -c 'pkt/s' "$TT_LOG" || true)
[[ $lines -ge 2 ]] || tt_fail "expected at least 2 stats lines, got $lines"
grep -q '^tuntcp summary' "$TT_LOG" || tt_fail "no summary after --duration"
tt_log passed
