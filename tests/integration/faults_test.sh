#!/usr/bin/env bash
# The fault matrix: TCP between the kernel and tuntcp over an impaired link. The kernel here has
# no sch_netem, so tuntcp impairs its own TUN boundary (--impair, engine/impair.h), both ways,
# exactly where netem on the TUN would act.
#
#   faults_test.sh CASE [off|on]     CASE: see faults_cases.sh; off|on: --offload (default off,
#                                    so loss and corruption hit single MTU-sized packets)
#
# Each case, in its own netns, runs two transfers of FAULTS_MB (default 20) MiB of random data at
# the same time (the slow cases take minutes even for the kernel's own TCP, so not one after the
# other), each through its own tuntcp and TUN:
#   echo:   the kernel sends the file through tuntcp's echo (tt0, 198.18.0.2) and checks the
#           sha256 of what comes back: data both ways on one connection;
#   client: tuntcp in client mode (tt1, 198.18.3.2) sends the file to a kernel `nc -l`, sha256
#           checked on the kernel's side.
# Each transfer must finish within the case's bound, the impairment must show in the impair_*
# counters, checksum errors must be caught both ways for corruption, and no connection may be
# left behind. With FAULTS_RESULTS=FILE, one row per transfer is appended to FILE for
# tests/faults.sh: case direction bytes seconds retx_tuntcp rto_tuntcp retx_kernel result.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults_cases.sh"
case_name=${1:?usage: faults_test.sh CASE [off|on]}
offload=${2:-off}
[[ $offload == on || $offload == off ]] || tt_fail "second argument must be on or off, got '$offload'"
faults_case "$case_name" || tt_fail "unknown case '$case_name' (known: ${FAULTS_CASES[*]})"
mb=${FAULTS_MB:-20}
bytes=$((mb * 1048576))
# The bounds in faults_cases.sh are for 20 MiB; other sizes get proportionally more or less.
bound=${FAULTS_BOUND:-$(((FC_BOUND * mb + 19) / 20))}
label=$case_name
[[ $offload == off ]] || label+="+offload"
for tool in nc nstat sha256sum; do
  command -v "$tool" >/dev/null || tt_fail "$tool is missing (tests/lib/deps.sh installs it)"
done
CLIENT_DEV=tt1 CLIENT_HOST=198.18.3.1 CLIENT_ADDR=198.18.3.2

# Absolute value of one of the kernel's SNMP counters in the test namespace (fresh: from 0).
kernel_counter() { tt_ns nstat -saz "$1" | awk -v k="$1" '$1 == k {print $2}'; }
row() {
  [[ -n ${FAULTS_RESULTS:-} ]] && echo "$label $*" >>"$FAULTS_RESULTS"
  tt_log "$label $*"
}
now() { date +%s.%N; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN {printf "%.2f", e - s}'; }
# check_time SECONDS WHAT: within the bound, and at least what the case must cost.
check_time() {
  awk -v s="$1" -v b="$bound" 'BEGIN {exit !(s <= b)}' || tt_fail "$2 took $1 s, bound $bound s"
  awk -v s="$1" -v m="$FC_MIN_SECONDS" 'BEGIN {exit !(s >= m)}' ||
    tt_fail "$2 took $1 s: the impairment should have cost at least $FC_MIN_SECONDS s"
}
expect_both() {
  tt_expect "impair_in_$1" "$2" "$3"
  tt_expect "impair_out_$1" "$2" "$3"
}

tt_setup
impair=(--impair "$FC_SPEC" --impair-seed "${FAULTS_SEED:-1}" --offload "$offload" --queues 1
        --workers 1)
f=$(tt_random_file "$mb")
want=$(sha256sum <"$f" | cut -d' ' -f1)
tt_log "case $label: --impair '$FC_SPEC', $mb MiB each way, bound $bound s per transfer"

tt_start --time-wait 1 "${impair[@]}"
server_log=$TT_LOG
client_log=$TT_DIR/client.log
ip netns exec "$TT_NS" timeout "$((bound + 10))" nc -l 5000 >"$TT_DIR/received" </dev/null &
nc_pid=$!
sleep 0.2
# The client leg in the background; its exit status and end time land in files.
(
  rc=0
  timeout "$bound" ip netns exec "$TT_NS" "$TUNTCP" --dev "$CLIENT_DEV" --addr "$CLIENT_ADDR" \
    --host-addr "$CLIENT_HOST/24" "${impair[@]}" --services none --connect "$CLIENT_HOST:5000" \
    --send-file "$f" >"$client_log" 2>&1 || rc=$?
  now >"$TT_DIR/client.end"
  echo "$rc" >"$TT_DIR/client.rc"
) &
client_pid=$!
start=$(now)
got=$(timeout "$bound" ip netns exec "$TT_NS" nc -N "$TT_ADDR" 7 <"$f" | sha256sum | cut -d' ' -f1) || true
t_echo=$(secs "$start" "$(now)")
wait "$client_pid"
t_client=$(secs "$start" "$(cat "$TT_DIR/client.end")")
nc_rc=0
wait "$nc_pid" || nc_rc=$?

check_time "$t_echo" "echo"
[[ $got == "$want" ]] || tt_fail "echo: sha256 of what came back $got != $want (after $t_echo s)"
TT_LOG=$client_log
check_time "$t_client" "client"
[[ $(cat "$TT_DIR/client.rc") -eq 0 ]] || tt_fail "client mode exited $(cat "$TT_DIR/client.rc") after $t_client s"
[[ $nc_rc -eq 0 ]] || tt_fail "nc -l for the client leg exited $nc_rc"
grep '^client:' "$client_log"
[[ $(sha256sum <"$TT_DIR/received" | cut -d' ' -f1) == "$want" ]] || tt_fail "client mode: sha256 differs"
TT_LOG=$server_log

# The last FIN/ACKs cross the impaired link too: give them a few round trips and one RTO.
sleep "$FC_SETTLE"
k_retx=$(kernel_counter TcpRetransSegs)
# shellcheck disable=SC2034  # read by faults_expect_checksums (faults_cases.sh)
k_csum=$(kernel_counter TcpInCsumErrors)
tt_stop
tt_expect tcp_bytes_in -ge "$bytes"
tt_expect tcp_closed_reset -eq 0
for c in $FC_COUNTERS; do expect_both "$c" -gt 0; done
faults_expect_checksums
tt_expect_no_leftovers
row "k->t->k(echo)" "$bytes" "$t_echo" "$(tt_counter tcp_retransmits)" "$(tt_counter tcp_timeouts)" "$k_retx" ok

# The client's view: data out; the other way only ACKs, too few for 1 % events with offloads.
TT_LOG=$client_log
for c in $FC_COUNTERS; do tt_expect "impair_out_$c" -gt 0; done
returned=$(tt_counter buffers_returned)
[[ ${returned%/*} == "${returned#*/}" ]] || tt_fail "client: buffers not all returned: $returned"
# Client mode exits once its FIN is acknowledged (engine/client.cc): FIN-WAIT-2 at exit is how it
# ends when the kernel's FIN is still crossing the delayed link; anything else is a leftover.
left=$(tt_ns ss -Htan state established state close-wait | wc -l)
[[ $left -eq 0 ]] || tt_fail "kernel still has $left ESTABLISHED/CLOSE-WAIT sockets: $(tt_ns ss -tan)"
for st in syn_sent syn_received established fin_wait_1 close_wait closing last_ack; do
  tt_expect "tcp_at_exit_$st" -eq 0 >/dev/null
done
tt_log "ok: no connection left behind"
row "t->k(client)" "$bytes" "$t_client" "$(tt_counter tcp_retransmits)" "$(tt_counter tcp_timeouts)" - ok
tt_log "passed"
