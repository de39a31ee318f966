#!/usr/bin/env bash
# Runs every Google Benchmark micro-benchmark (bench/*_bench.cc) of the release build.
#   bench/micro.sh [extra Google Benchmark flags, e.g. --benchmark_filter=Checksum]
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/deps.sh
tt_install_deps
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
for b in build/release/bench/*_bench; do
  echo "== $(basename "$b")"
  "$b" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true "$@"
done
