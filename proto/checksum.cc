#include "proto/checksum.h"

#include <array>
#include <atomic>
#include <cstring>

#include "proto/checksum_x86.h"

namespace tuntcp::proto::csum {

uint16_t ones_sum_reference(const uint8_t* data, size_t len, uint32_t seed) {
  uint64_t sum = seed;
  size_t i = 0;
  for (; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < len) sum += static_cast<uint32_t>(data[i] << 8);
  return fold(sum);
}

// Sums native (little-endian) 64-bit words with carry, then swaps the folded result back to
// big-endian order: RFC 1071 section 2(B), the sum is byte-order independent.
uint16_t ones_sum_scalar64(const uint8_t* data, size_t len, uint32_t seed) {
  unsigned __int128 acc = 0;
  while (len >= 32) {
    uint64_t w[4];
    std::memcpy(w, data, 32);
    acc += w[0];
    acc += w[1];
    acc += w[2];
    acc += w[3];
    data += 32;
    len -= 32;
  }
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, data, 8);
    acc += w;
    data += 8;
    len -= 8;
  }
  uint64_t tail = 0;
  // Zero padded, little-endian: odd byte lands in the low half. Skipped when empty, as data may
  // then be null (an empty span), which memcpy must not be given.
  if (len != 0) std::memcpy(&tail, data, len);
  acc += tail;
  uint64_t s = static_cast<uint64_t>(acc) + static_cast<uint64_t>(acc >> 64);
  if (s < static_cast<uint64_t>(acc)) ++s;  // end-around carry of that addition
  uint16_t folded = fold(s);
  folded = __builtin_bswap16(folded);
  return fold(static_cast<uint64_t>(folded) + seed);
}

// ---------------------------------------------------------------------------------------------
// Runtime dispatch.

namespace {

#ifdef TUNTCP_CSUM_X86
constexpr size_t kVariantCount = 5;
#else
constexpr size_t kVariantCount = 2;
#endif

// Built once (thread-safe static initialisation). Ordered from slowest to fastest as measured
// with bench/checksum_bench on the AMD EPYC (Zen 4, 512-bit ops double-pumped) development VM,
// in GiB/s at 1500 / 9000 / 65536 bytes: reference 3.3 / 3.4 / 3.3, scalar64 16.8 / 19.0 / 19.5,
// sse2 43 / 48 / 51, avx2 79 / 120 / 107, avx512 86 / 125 / 109. On that CPU avx512 is only a
// little ahead of avx2 (both issue about one 32-byte half per cycle), but never behind, so the
// order is the nominal one; the dispatcher takes the last supported entry.
const std::array<Variant, kVariantCount>& table() {
  static const std::array<Variant, kVariantCount> t = [] {
#ifdef TUNTCP_CSUM_X86
    __builtin_cpu_init();  // in case the first call comes from another constructor
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
    return std::array<Variant, kVariantCount>{{
        {"reference", &ones_sum_reference, true},
        {"scalar64", &ones_sum_scalar64, true},
#ifdef TUNTCP_CSUM_X86
        {"sse2", &x86::ones_sum_sse2, __builtin_cpu_supports("sse2") != 0},
        {"avx2", &x86::ones_sum_avx2, __builtin_cpu_supports("avx2") != 0},
        {"avx512", &x86::ones_sum_avx512, avx512},
#endif
    }};
  }();
  return t;
}

const Variant& best_variant() {
  static const Variant& best = []() -> const Variant& {
    const auto& t = table();
    for (size_t i = t.size(); i-- > 0;) {
      if (t[i].supported) return t[i];
    }
    return t[0];  // unreachable: the reference is always supported
  }();
  return best;
}

uint16_t resolve_and_sum(const uint8_t* data, size_t len, uint32_t seed);

// What ones_sum() calls. Starts at the resolver, which installs the best variant on first use
// (unless select_variant() got there first); after that the hot path is one relaxed load and one
// indirect call. Constant-initialised, so calls from other static constructors are safe.
constinit std::atomic<SumFn> g_sum{&resolve_and_sum};

SumFn resolved_fn() {
  SumFn fn = g_sum.load(std::memory_order_relaxed);
  if (fn == &resolve_and_sum) {
    SumFn best = best_variant().fn;
    if (g_sum.compare_exchange_strong(fn, best, std::memory_order_relaxed)) fn = best;
  }
  return fn;
}

uint16_t resolve_and_sum(const uint8_t* data, size_t len, uint32_t seed) {
  return resolved_fn()(data, len, seed);
}

}  // namespace

std::span<const Variant> variants() { return table(); }

const Variant& active_variant() {
  SumFn fn = resolved_fn();
  for (const Variant& v : table()) {
    if (v.fn == fn) return v;
  }
  return best_variant();  // unreachable: g_sum only ever holds a table entry's fn
}

bool select_variant(const char* name) {
  if (name == nullptr) return false;
  for (const Variant& v : table()) {
    if (std::strcmp(v.name, name) == 0) {
      if (!v.supported) return false;
      g_sum.store(v.fn, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

uint16_t ones_sum(const uint8_t* data, size_t len, uint32_t seed) {
  return g_sum.load(std::memory_order_relaxed)(data, len, seed);
}

}  // namespace tuntcp::proto::csum
