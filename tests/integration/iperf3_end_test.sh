#!/usr/bin/env bash
# The end of an iperf3 test with several streams, driven by a scripted client
# (tests/tools/iperf3_script_client.py) that puts events in the order that used to hang it:
#   - the data streams' cookies arrive last one first (as when a busy worker or a lost segment
#     delays the first): the server must still number the streams, and pick the ones it sends
#     on with --bidir, in the order the client opened them;
#   - at TEST_END the first stream still holds unacknowledged data, dropped by an iptables rule
#     in the namespace until after the client's results are in, so it is retransmitted then:
#     the server must wait for it and count it.
# For -P 4, --bidir -P 3 and -P 8, against one worker and against three workers on two queues.
# The client checks that the server's results come and agree stream by stream.
source "$(dirname "$0")/lib.sh"
for tool in python3 iptables; do
  command -v "$tool" >/dev/null || tt_fail "$tool is missing: tests/run.sh installs it (tests/lib/deps.sh)"
done
CLIENT=$(dirname "$0")/../tools/iperf3_script_client.py
tt_setup

run() {  # client arguments
  local out rc=0
  out=$(timeout -k 2 60 ip netns exec "$TT_NS" python3 "$CLIENT" --server "$TT_ADDR" "$@" 2>&1) || rc=$?
  [[ $rc -eq 0 ]] || tt_fail "iperf3 client $*: exit $rc: $out"
  tt_log "$out"
}

for setup in "--queues 1 --workers 1" "--queues 2 --workers 3"; do
  # shellcheck disable=SC2086 # a list of flags
  tt_start --services iperf3 --time-wait 1 $setup
  tt_log "tuntcp $setup"
  run -P 4 --reverse-cookies --hold-tail
  run -P 3 --bidir --reverse-cookies --hold-tail
  run -P 8 --reverse-cookies
  run -P 2 --bidir
  tt_stop
done
tt_log "PASS"
