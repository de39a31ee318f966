#!/usr/bin/env bash
# The reference row of the fault matrix: the kernel's TCP to the kernel's TCP over the same
# impairment (tuntcp-impair-relay, relay_lib.sh), FAULTS_MB MiB (default 20) one way: an iperf 2
# client with congestion control FAULTS_KERNEL_CC (default cubic, tuntcp's own; this kernel's
# default is bbr) into `nc -l`, the byte count checked. Tells how much of a case's time is the
# path and how much is tuntcp.
#
#   faults_kernel.sh CASE          (tests/faults.sh --kernel runs it; not a ctest test)
# Appends "CASE kernel->kernel(CC) bytes seconds - - retx_kernel result" to FAULTS_RESULTS.
set -euo pipefail
here=$(dirname "$0")
source "$here/faults_cases.sh"
source "$here/relay_lib.sh"
case_name=${1:?usage: faults_kernel.sh CASE}
faults_case "$case_name" || { echo "faults_kernel: unknown case '$case_name'" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "faults_kernel: skipped: needs root"; exit 77; }
mb=${FAULTS_MB:-20}
bytes=$((mb * 1048576))
bound=${FAULTS_BOUND:-$(((FC_BOUND * mb + 19) / 20))}
dir=$(mktemp -d /tmp/tuntcp-faults-kernel.XXXXXX)
trap 'relay_cleanup; rm -rf "$dir"' EXIT
relay_setup "$FC_SPEC" "${FAULTS_SEED:-1}" "$dir/relay.log"

cc=${FAULTS_KERNEL_CC:-cubic}
ip netns exec "$RL_B" timeout "$((bound + 5))" nc -l 5000 </dev/null | wc -c >"$dir/count" &
nc_pid=$!
sleep 0.2
start=$(date +%s.%N)
result=ok
timeout "$bound" ip netns exec "$RL_A" iperf -c "$RL_ADDR_B" -p 5000 -n "${mb}M" -Z "$cc" \
  >"$dir/iperf.log" 2>&1 || result=FAIL
wait "$nc_pid" || result=FAIL
t=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
[[ $(cat "$dir/count") -eq $bytes ]] || result=FAIL
retx=$(ip netns exec "$RL_A" nstat -saz TcpRetransSegs | awk '$1 == "TcpRetransSegs" {print $2}')
line="$case_name kernel->kernel($cc) $bytes $t - - $retx $result"
[[ -n ${FAULTS_RESULTS:-} ]] && echo "$line" >>"$FAULTS_RESULTS"
echo "[faults_kernel] $line"
[[ $result == ok ]]
