#!/usr/bin/env bash
# Builds tuntcp and runs every test: unit tests and root integration tests (own netns each)
# in the release build, then the unit tests again under ASan+UBSan.
# Installs missing Debian packages first (needs root, as the integration tests do).
#
#   tests/run.sh                 everything (what CI runs)
#   tests/run.sh --unit          unit tests only (no root needed once packages are installed)
#   tests/run.sh --no-asan       skip the sanitizer build
#   tests/run.sh -R REGEX        only tests whose name matches (passed to ctest)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh

unit_only=0 asan=1 filter=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --unit) unit_only=1 ;;
    --no-asan) asan=0 ;;
    -R) filter=(-R "$2"); shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
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
echo "== all tests passed"
