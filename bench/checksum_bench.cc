// Internet checksum throughput per variant (bytes/s via SetBytesProcessed), the dispatched
// ones_sum(), and the RFC 1624 incremental update.
//
//   build/bench/checksum_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// Benchmarks are named BM_ones_sum/<variant>/<bytes>; only variants the CPU supports are
// registered. Google Benchmark prints bytes_per_second with binary prefixes: "G/s" is GiB/s.
// The buffer starts on a 64-byte boundary (BM_ones_sum_misaligned: 1 byte past one).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "proto/checksum.h"

namespace {

using tuntcp::proto::csum::SumFn;

constexpr int64_t kSizes[] = {64, 1500, 9000, 65536};

// 64-byte aligned random bytes, enough for the largest size plus an offset.
const uint8_t* buffer(size_t offset) {
  static const std::vector<uint8_t> storage = [] {
    std::vector<uint8_t> v(65536 + 128);
    std::mt19937 rng(42);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
  }();
  auto addr = reinterpret_cast<uintptr_t>(storage.data());
  return storage.data() + (64 - addr % 64) % 64 + offset;
}

void run_sum(benchmark::State& state, SumFn fn, size_t offset) {
  const uint8_t* data = buffer(offset);
  const auto len = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(data);  // the compiler may not assume the bytes or pointer
    uint16_t s = fn(data, len, 0);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

// Through the dispatcher: what the stack pays (one relaxed load + one indirect call).
void BM_ones_sum_dispatched(benchmark::State& state) {
  const uint8_t* data = buffer(0);
  const auto len = static_cast<size_t>(state.range(0));
  state.SetLabel(tuntcp::proto::csum::active_variant().name);
  for (auto _ : state) {
    benchmark::DoNotOptimize(data);
    uint16_t s = tuntcp::proto::csum::ones_sum(data, len);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ones_sum_dispatched)->Arg(20)->Arg(64)->Arg(1500)->Arg(9000)->Arg(65536);

// RFC 1624 update of a 16-bit field (e.g. a TTL decrement or port rewrite), a dependent chain.
void BM_update16(benchmark::State& state) {
  uint16_t c = 0xb861;
  uint16_t old_word = 0x4011;
  for (auto _ : state) {
    const auto new_word = static_cast<uint16_t>(old_word - 0x100);
    c = tuntcp::proto::csum::update16(c, old_word, new_word);
    old_word = new_word;
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_update16);

void BM_update32(benchmark::State& state) {
  uint16_t c = 0x1c46;
  uint32_t old_value = 0x12345678;
  for (auto _ : state) {
    const uint32_t new_value = old_value + 1460;
    c = tuntcp::proto::csum::update32(c, old_value, new_value);
    old_value = new_value;
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_update32);

const int kRegistered = [] {
  for (const auto& v : tuntcp::proto::csum::variants()) {
    if (!v.supported) continue;
    SumFn fn = v.fn;
    auto* b =
        benchmark::RegisterBenchmark((std::string("BM_ones_sum/") + v.name).c_str(),
                                     [fn](benchmark::State& state) { run_sum(state, fn, 0); });
    for (int64_t size : kSizes) b->Arg(size);
  }
  for (const auto& v : tuntcp::proto::csum::variants()) {
    if (!v.supported || std::strcmp(v.name, "reference") == 0) continue;
    SumFn fn = v.fn;
    benchmark::RegisterBenchmark((std::string("BM_ones_sum_misaligned/") + v.name).c_str(),
                                 [fn](benchmark::State& state) { run_sum(state, fn, 1); })
        ->Arg(1500);
  }
  return 0;
}();

}  // namespace
