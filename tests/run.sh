#!/usr/bin/env bash
# Builds tuntcp and runs every test: unit tests and root integration tests (own netns each)
# in the release build, then the unit tests again under ASan+UBSan.
# Installs missing Debian packages first (needs root, as the integration tests do).
#
#   tests/run.sh                 everything (what CI runs)
#   tests/run.sh --unit          unit tests only (no root needed once packages are installed)
#   tests/run.sh --no-asan       skip the sanitizer build
#   tests/run.sh --no-fuzz       skip the libFuzzer runs (FUZZ_SECONDS, default 60 s per harness)
#   tests/run.sh --no-clang      skip the plain (no preset) clang++ Release build, which keeps the
#                                project building the way users build: cmake -B DIR, no preset
#   tests/run.sh -R REGEX        only tests whose name matches (passed to ctest)
#   tests/run.sh --tsan          instead: build the tsan preset and run the multi-threaded tests
#                                under ThreadSanitizer (hand-off and pool unit tests, ping_2q_3w,
#                                tcp_2q_2w, iperf); not in CI: about 10 min from scratch on 2 cores
#                                (the build), 1.5 min once built
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh

unit_only=0 asan=1 tsan=0 fuzz=1 clang=1 filter=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --unit) unit_only=1 ;;
    --no-asan) asan=0 ;;
    --no-fuzz) fuzz=0 ;;
    --no-clang) clang=0 ;;
    --tsan) tsan=1 ;;
    -R) filter=(-R "$2"); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "tests/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

tt_install_deps
jobs=$(nproc)

build() {
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "$jobs"
}

if [[ $tsan -eq 1 ]]; then
  echo "== ThreadSanitizer build"
  build tsan
  # Reports go to files in build/tsan/tsan-reports/ (printed below), and a report makes the
  # process exit 66, which fails its test. tests/tsan.supp says what is suppressed and why.
  reports=$PWD/build/tsan/tsan-reports
  rm -rf "$reports" && mkdir -p "$reports"
  export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp second_deadlock_stack=1 log_path=$reports/tsan"
  tsan_ctest() {
    ctest --preset tsan -j 1 "$@" || { cat "$reports"/tsan.* 2>/dev/null | head -n 300; exit 1; }
  }
  echo "== unit tests (tsan): hand-off and buffer pool"
  tsan_ctest -L unit -R '^(BufferPool|BufferPoolStress|ReturnBatch|WorkerInbox|WorkerInboxRace)[.]'
  echo "== integration tests (tsan): multi-threaded tuntcp"
  tsan_ctest -L integration -R '^integration[.](ping_2q_3w|tcp_2q_2w|iperf)$'
  if compgen -G "$reports/tsan.*" >/dev/null; then
    cat "$reports"/tsan.* | head -n 300
    echo "== ThreadSanitizer reports above" >&2
    exit 1
  fi
  echo "== no ThreadSanitizer report"
  exit 0
fi

echo "== release build"
build release
echo "== unit tests (release)"
ctest --preset release -L unit -j "$jobs" "${filter[@]}"
if [[ $unit_only -eq 0 ]]; then
  echo "== integration tests (release, root, one netns each)"
  ctest --preset release -L integration -j 1 "${filter[@]}"
fi
if [[ $asan -eq 1 ]]; then
  echo "== ASan+UBSan build"
  build asan
  echo "== unit tests (asan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -L unit -j "$jobs" "${filter[@]}"
  if [[ $unit_only -eq 0 ]]; then
    echo "== integration tests (asan)"
    ASAN_OPTIONS=detect_leaks=1 ctest --preset asan -L integration -j 1 "${filter[@]}"
  fi
fi
if [[ $clang -eq 1 && $unit_only -eq 0 && ${#filter[@]} -eq 0 ]]; then
  # As a user builds: no preset, Release, another compiler. -Werror here keeps it warning-clean.
  echo "== plain Release build with clang++ (cmake -B build/clang-release, no preset)"
  CXX=clang++ cmake -S . -B build/clang-release -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTUNTCP_WERROR=ON -DTUNTCP_BENCH=OFF >/dev/null
  cmake --build build/clang-release -j "$jobs"
  echo "== unit tests (clang++ Release)"
  ctest --test-dir build/clang-release -L unit -j "$jobs" --output-on-failure
fi
if [[ $fuzz -eq 1 && $unit_only -eq 0 && ${#filter[@]} -eq 0 ]]; then
  echo "== fuzzing: every harness for ${FUZZ_SECONDS:-60} s under ASan+UBSan (clang)"
  tests/fuzz/run.sh --seconds "${FUZZ_SECONDS:-60}" --jobs "$jobs"
fi
echo "== all tests passed"
