# shellcheck shell=bash
# The kernel's own TCP over the same impaired path tuntcp gets: two namespaces joined by
# tuntcp-impair-relay (tests/tools/impair_relay.cc), which applies engine/impair's code in both
# directions. Side A is 198.18.1.1 on device ra, side B 198.18.2.1 on rb; each routes the other's
# /24 into its TUN. Both namespaces and everything in them are removed by relay_cleanup.
#
# Use:  source relay_lib.sh; relay_setup SPEC SEED; ip netns exec "$RL_A" ...; relay_cleanup
: "${RELAY:?set RELAY to the tuntcp-impair-relay binary}"
RL_A='' RL_B='' RL_PID='' RL_LOG=''
RL_ADDR_A=198.18.1.1
RL_ADDR_B=198.18.2.1

relay_cleanup() {
  if [[ -n $RL_PID ]] && kill -0 "$RL_PID" 2>/dev/null; then
    kill -TERM "$RL_PID" 2>/dev/null || true
    wait "$RL_PID" 2>/dev/null || true
  fi
  RL_PID=
  [[ -n $RL_A ]] && ip netns del "$RL_A" 2>/dev/null || true
  [[ -n $RL_B ]] && ip netns del "$RL_B" 2>/dev/null || true
  RL_A='' RL_B=''
}

# relay_setup SPEC SEED [LOG]: namespaces, relay, addresses, routes; returns once both ends are up.
relay_setup() {
  local spec=$1 seed=$2
  RL_LOG=${3:-/dev/null}
  RL_A=ttrelayA-$$ RL_B=ttrelayB-$$
  ip netns add "$RL_A"
  ip netns add "$RL_B"
  ip -n "$RL_A" link set lo up
  ip -n "$RL_B" link set lo up
  ip netns exec "$RL_A" "$RELAY" --dev-a ra --netns-b "/run/netns/$RL_B" --dev-b rb \
    --impair "$spec" --impair-seed "$seed" >"$RL_LOG" 2>&1 &
  RL_PID=$!
  for _ in $(seq 1 100); do
    ip -n "$RL_B" link show rb >/dev/null 2>&1 && break
    kill -0 "$RL_PID" 2>/dev/null || { cat "$RL_LOG" >&2; return 1; }
    sleep 0.05
  done
  # txqueuelen as tuntcp sets its own TUN (--txqueuelen default), so both paths queue alike.
  ip -n "$RL_A" addr add "$RL_ADDR_A/24" dev ra
  ip -n "$RL_A" link set ra up txqueuelen 1000
  ip -n "$RL_A" route add 198.18.2.0/24 dev ra
  ip -n "$RL_B" addr add "$RL_ADDR_B/24" dev rb
  ip -n "$RL_B" link set rb up txqueuelen 1000
  ip -n "$RL_B" route add 198.18.1.0/24 dev rb
}
