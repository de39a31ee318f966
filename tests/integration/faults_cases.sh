# shellcheck shell=bash disable=SC2034,SC2154  # a sourced library: it sets and reads its callers' variables
# The cases of the fault matrix (sourced by faults_test.sh, faults_kernel.sh and tests/faults.sh):
# for each, the --impair spec (netem's numbers from the "Robustness" issue), the time bound of one
# 20 MiB transfer, and which impair_* counters must show that the impairment happened.
#
# reorder needs a delay, as in netem: 25 % of the packets skip a 10 ms delay line. blackout and
# combined darken the link for 5 s from 1 s after tuntcp starts; blackout alone limits the rate
# to 100 Mbit/s so that a 20 MiB transfer is still running then (combined is slow enough).
#
# Bounds: twice what the kernel's own TCP with CUBIC (tuntcp's congestion control) needs for
# 20 MiB over the same impairment (tuntcp-impair-relay, iperf -Z cubic; 2 CPUs, Linux 6.18),
# at least 20 s: loss1 1.2 s, loss10 59 s, delay 0.9 s, reorder 30 s, duplicate 0.2 s,
# corrupt 1.3 s, blackout 8.3 s, combined 129 s. (With its default BBR the kernel needs 1.7 s
# for loss10, 6 s for reorder and 37 s for combined.)

FAULTS_CASES=(loss1 loss10 delay reorder duplicate corrupt blackout combined)

# faults_case NAME: sets FC_SPEC, FC_BOUND, FC_SETTLE (seconds for the last FIN/ACKs),
# FC_COUNTERS (impair_in_X and impair_out_X that must be > 0), FC_CORRUPT (1: checksum errors
# must be caught both ways) and FC_MIN_SECONDS (a transfer faster than this missed the fault).
faults_case() {
  FC_SETTLE=1.5 FC_CORRUPT=0 FC_MIN_SECONDS=0
  case $1 in
    loss1) FC_SPEC="loss=1%" FC_BOUND=20 FC_COUNTERS="dropped" ;;
    loss10) FC_SPEC="loss=10%" FC_BOUND=120 FC_COUNTERS="dropped" ;;
    delay) FC_SPEC="delay=20ms,jitter=5ms" FC_BOUND=20 FC_COUNTERS="delayed" ;;
    reorder) FC_SPEC="delay=10ms,reorder=25%" FC_BOUND=60 FC_COUNTERS="delayed reordered" ;;
    duplicate) FC_SPEC="duplicate=5%" FC_BOUND=20 FC_COUNTERS="duplicated" ;;
    corrupt) FC_SPEC="corrupt=1%" FC_BOUND=20 FC_COUNTERS="corrupted" FC_CORRUPT=1 ;;
    blackout)
      FC_SPEC="rate=100mbit,blackout=5s@1s" FC_BOUND=20 FC_COUNTERS="dropped" FC_MIN_SECONDS=5 ;;
    combined)
      FC_SPEC="loss=1%,delay=20ms,jitter=5ms,reorder=25%,duplicate=5%,corrupt=1%,blackout=5s@1s"
      FC_BOUND=260 FC_COUNTERS="dropped delayed reordered duplicated corrupted" FC_CORRUPT=1
      FC_MIN_SECONDS=5 FC_SETTLE=2.5 ;;
    *) return 1 ;;
  esac
}

# Corruption must be caught by every receiver's checksum: tuntcp drops what the kernel sent
# corrupted (and nothing else), the kernel counts TcpInCsumErrors for what both tuntcp processes
# sent corrupted. Without corruption neither side sees a bad checksum. Reads the server's
# summary (TT_LOG), $client_log and $k_csum of faults_test.sh.
faults_expect_checksums() {
  local sent
  sent=$(($(tt_counter impair_out_corrupted) + $(TT_LOG=$client_log tt_counter impair_out_corrupted)))
  if [[ $FC_CORRUPT -eq 1 ]]; then
    tt_expect drop_tcp_bad_checksum -gt 0
    tt_expect drop_tcp_bad_checksum -le "$(tt_counter impair_in_corrupted)"
    [[ $k_csum -gt 0 ]] || tt_fail "the kernel counted no TcpInCsumErrors ($sent corrupted sent)"
    tt_log "ok: kernel TcpInCsumErrors = $k_csum for $sent corrupted segments sent"
  else
    tt_expect drop_tcp_bad_checksum -eq 0
    TT_LOG=$client_log tt_expect drop_tcp_bad_checksum -eq 0
    [[ $k_csum -eq 0 ]] || tt_fail "the kernel counted $k_csum TcpInCsumErrors without corruption"
  fi
}
