# Installs the Debian packages tuntcp needs to build, test and benchmark, if any are missing.
# Idempotent and quick when everything is present (one dpkg-query, no apt-get at all).
# Source it and call tt_install_deps [extra packages...].

TT_BUILD_DEPS=(cmake ninja-build g++ pkg-config liburing-dev libconcurrentqueue-dev libmimalloc-dev
               libcli11-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev clang libclang-rt-14-dev)
TT_RUN_DEPS=(iproute2 iputils-ping netcat-openbsd iperf3 iperf jq procps util-linux tshark passwd hping3
             iptables python3)

# For the scripts outside CI (soak, stress): the packages, the release build unless $1 is 0,
# and TUNTCP pointing at its binary (what tests/integration/lib.sh runs).
tt_release_tuntcp() {
  tt_install_deps
  if [[ ${1:-1} -eq 1 ]]; then
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc)" >/dev/null
  fi
  export TUNTCP=$PWD/build/release/engine/tuntcp
}

tt_install_deps() {
  local want=("${TT_BUILD_DEPS[@]}" "${TT_RUN_DEPS[@]}" "$@") missing=() p
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "tuntcp: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    return 1
  fi
  echo "tuntcp: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # iperf3's package asks whether to start a daemon: no.
  echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections 2>/dev/null || true
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
