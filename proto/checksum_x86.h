// x86 SIMD variants of the Internet checksum sum. Internal to proto/checksum*.cc; callers use
// csum::ones_sum() or csum::variants() from proto/checksum.h.
//
// Each function is compiled for its instruction set with __attribute__((target(...))) only, so
// the library still runs on CPUs without it: call one only where the running CPU supports it
// (Variant::supported). Same contract as csum::SumFn: any length, any alignment, result equal to
// ones_sum_reference(data, len, seed).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__x86_64__)
#define TUNTCP_CSUM_X86 1

namespace tuntcp::proto::csum::x86 {

uint16_t ones_sum_sse2(const uint8_t* data, size_t len, uint32_t seed);    // needs sse2
uint16_t ones_sum_avx2(const uint8_t* data, size_t len, uint32_t seed);    // needs avx2
uint16_t ones_sum_avx512(const uint8_t* data, size_t len, uint32_t seed);  // needs avx512bw

}  // namespace tuntcp::proto::csum::x86

#endif
