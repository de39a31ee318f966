// SSE2 / AVX2 / AVX-512 sums for the Internet checksum. See proto/checksum_x86.h.
//
// Technique (the same in all three): read the data as native little-endian 16-bit words w,
// flip the top bit of each (w ^ 0x8000 = w - 32768 as a signed 16-bit number, which pmaddwd
// accepts) and let pmaddwd against a vector of ones add neighbouring pairs into signed 32-bit
// lanes: (w0 - 32768) + (w1 - 32768). That is 3 instructions per vector (xor, pmaddwd, padd)
// and every pair is biased by exactly -65536, so the true sum of the words is recovered at the
// end by adding 65536 per 4 bytes summed. Each 32-bit lane changes by [-65536, 65534] per add,
// so a lane may take 2^14 adds (|lane| <= 2^30, two lanes still fit in int32 when combined);
// longer inputs are cut into blocks and each block's lanes are widened to a 64-bit total.
//
// The result is the exact sum of the native words (plus any tail, summed with scalar code in the
// same representation), folded and byte-swapped to network order (RFC 1071 section 2(B)) and
// then seeded, exactly as ones_sum_scalar64 does.
#include "proto/checksum_x86.h"

#ifdef TUNTCP_CSUM_X86

// GCC 12 (PR 105593): the AVX-512 intrinsics pass _mm512_undefined_*() (a self-initialised
// variable) as the unused merge source and -Wuninitialized fires inside the header once they are
// inlined. The diagnostic is located in the header, so silencing it there is enough.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)  // a GCC-only warning: clang would warn of an unknown one
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstring>

#include "proto/checksum.h"

namespace tuntcp::proto::csum::x86 {
namespace {

// Adds per 32-bit lane allowed in one block (main-loop iterations + one remainder vector).
constexpr size_t kMaxLaneAdds = size_t{1} << 14;
// Exact correction for the -32768 bias of every word: +65536 per pair of words (4 bytes).
constexpr uint64_t kBiasPerByte = 65536 / 4;

// Sum of the native 16-bit words of a short tail (an odd last byte is the low half of a
// zero-padded word). Summed as 32-bit words: 2^16 = 1 (mod 2^16 - 1), so it is congruent to the
// word sum, and zero only for all-zero data; that is all the final fold needs.
inline uint64_t tail_sum(const uint8_t* p, size_t len) {
  uint64_t s = 0;
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    s += (w & 0xffffffff) + (w >> 32);
    p += 8;
    len -= 8;
  }
  if (len >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    s += w;
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    s += w;
    p += 2;
    len -= 2;
  }
  if (len != 0) s += *p;
  return s;
}

// native_sum: a non-negative number congruent (mod 0xffff) to the native-order word sum, zero
// only if all words are zero.
inline uint16_t finish(uint64_t native_sum, uint32_t seed) {
  uint16_t folded = __builtin_bswap16(fold(native_sum));
  return fold(static_cast<uint64_t>(folded) + seed);
}

// ---------------------------------------------------------------------------------------------
// SSE2: 16 bytes per vector, 4 vectors per iteration.

#define TUNTCP_SSE2 __attribute__((target("sse2"), always_inline)) inline

TUNTCP_SSE2 __m128i step_sse2(__m128i acc, __m128i v) {
  const __m128i bias = _mm_set1_epi16(static_cast<short>(0x8000));
  const __m128i ones = _mm_set1_epi16(1);
  return _mm_add_epi32(acc, _mm_madd_epi16(_mm_xor_si128(v, bias), ones));
}

// Signed 64-bit total of four accumulators whose lanes are within [-2^30, 2^30].
TUNTCP_SSE2 int64_t reduce_sse2(__m128i a0, __m128i a1, __m128i a2, __m128i a3) {
  __m128i x = _mm_add_epi32(a0, a1);
  __m128i y = _mm_add_epi32(a2, a3);
  __m128i xs = _mm_srai_epi32(x, 31);
  __m128i ys = _mm_srai_epi32(y, 31);
  __m128i s = _mm_add_epi64(_mm_unpacklo_epi32(x, xs), _mm_unpackhi_epi32(x, xs));
  s = _mm_add_epi64(s, _mm_add_epi64(_mm_unpacklo_epi32(y, ys), _mm_unpackhi_epi32(y, ys)));
  s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
  return _mm_cvtsi128_si64(s);
}

// ---------------------------------------------------------------------------------------------
// AVX2: 32 bytes per vector, 4 vectors per iteration.

#define TUNTCP_AVX2 __attribute__((target("avx2"), always_inline)) inline

TUNTCP_AVX2 __m256i step_avx2(__m256i acc, __m256i v) {
  const __m256i bias = _mm256_set1_epi16(static_cast<short>(0x8000));
  const __m256i ones = _mm256_set1_epi16(1);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_xor_si256(v, bias), ones));
}

TUNTCP_AVX2 __m256i widen_avx2(__m256i x) {
  return _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(x)),
                          _mm256_cvtepi32_epi64(_mm256_extracti128_si256(x, 1)));
}

TUNTCP_AVX2 int64_t reduce_avx2(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  __m256i s =
      _mm256_add_epi64(widen_avx2(_mm256_add_epi32(a0, a1)), widen_avx2(_mm256_add_epi32(a2, a3)));
  __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
  return _mm_cvtsi128_si64(h);
}

// ---------------------------------------------------------------------------------------------
// AVX-512 (F + BW for the 16-bit ops and byte-masked loads): 64 bytes per vector, 4 per iteration.

#define TUNTCP_AVX512 __attribute__((target("avx512f,avx512bw"), always_inline)) inline

TUNTCP_AVX512 __m512i step_avx512(__m512i acc, __m512i v) {
  const __m512i bias = _mm512_set1_epi16(static_cast<short>(0x8000));
  const __m512i ones = _mm512_set1_epi16(1);
  return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_xor_si512(v, bias), ones));
}

TUNTCP_AVX512 __m512i widen_avx512(__m512i x) {
  return _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(x)),
                          _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(x, 1)));
}

TUNTCP_AVX512 int64_t reduce_avx512(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
  __m512i s = _mm512_add_epi64(widen_avx512(_mm512_add_epi32(a0, a1)),
                               widen_avx512(_mm512_add_epi32(a2, a3)));
  return _mm512_reduce_add_epi64(s);
}

// For inputs shorter than one main-loop iteration: each lane took at most one add per
// accumulator, so everything fits in int32 and no widening is needed.
TUNTCP_AVX512 int64_t reduce_short_avx512(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
  return _mm512_reduce_add_epi32(
      _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));
}

}  // namespace

__attribute__((target("sse2"))) uint16_t ones_sum_sse2(const uint8_t* data, size_t len,
                                                       uint32_t seed) {
  constexpr size_t kVec = 16;
  if (len < kVec) return finish(tail_sum(data, len), seed);  // e.g. an IPv4 header
  const uint64_t vec_bytes = len & ~(kVec - 1);
  int64_t total = 0;
  __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
  while (len >= 4 * kVec) {
    size_t n = len / (4 * kVec);
    if (n > kMaxLaneAdds - 1) n = kMaxLaneAdds - 1;
    len -= n * 4 * kVec;
    do {
      a0 = step_sse2(a0, _mm_loadu_si128(reinterpret_cast<const __m128i*>(data)));
      a1 = step_sse2(a1, _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + kVec)));
      a2 = step_sse2(a2, _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 2 * kVec)));
      a3 = step_sse2(a3, _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 3 * kVec)));
      data += 4 * kVec;
    } while (--n != 0);
    if (len >= 4 * kVec) {  // another block follows: bank these lanes before they overflow
      total += reduce_sse2(a0, a1, a2, a3);
      a0 = a1 = a2 = a3 = _mm_setzero_si128();
    }
  }
  if (len >= kVec) {
    a0 = step_sse2(a0, _mm_loadu_si128(reinterpret_cast<const __m128i*>(data)));
    data += kVec;
    len -= kVec;
    if (len >= kVec) {
      a1 = step_sse2(a1, _mm_loadu_si128(reinterpret_cast<const __m128i*>(data)));
      data += kVec;
      len -= kVec;
      if (len >= kVec) {
        a2 = step_sse2(a2, _mm_loadu_si128(reinterpret_cast<const __m128i*>(data)));
        data += kVec;
        len -= kVec;
      }
    }
  }
  total += reduce_sse2(a0, a1, a2, a3);
  uint64_t sum = vec_bytes * kBiasPerByte + static_cast<uint64_t>(total);
  return finish(sum + tail_sum(data, len), seed);
}

__attribute__((target("avx2"))) uint16_t ones_sum_avx2(const uint8_t* data, size_t len,
                                                       uint32_t seed) {
  constexpr size_t kVec = 32;
  if (len < kVec) return finish(tail_sum(data, len), seed);  // e.g. an IPv4 header
  const uint64_t vec_bytes = len & ~(kVec - 1);
  int64_t total = 0;
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  while (len >= 4 * kVec) {
    size_t n = len / (4 * kVec);
    if (n > kMaxLaneAdds - 1) n = kMaxLaneAdds - 1;
    len -= n * 4 * kVec;
    do {
      a0 = step_avx2(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data)));
      a1 = step_avx2(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + kVec)));
      a2 = step_avx2(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + 2 * kVec)));
      a3 = step_avx2(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + 3 * kVec)));
      data += 4 * kVec;
    } while (--n != 0);
    if (len >= 4 * kVec) {
      total += reduce_avx2(a0, a1, a2, a3);
      a0 = a1 = a2 = a3 = _mm256_setzero_si256();
    }
  }
  if (len >= kVec) {
    a0 = step_avx2(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data)));
    data += kVec;
    len -= kVec;
    if (len >= kVec) {
      a1 = step_avx2(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data)));
      data += kVec;
      len -= kVec;
      if (len >= kVec) {
        a2 = step_avx2(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data)));
        data += kVec;
        len -= kVec;
      }
    }
  }
  total += reduce_avx2(a0, a1, a2, a3);
  uint64_t sum = vec_bytes * kBiasPerByte + static_cast<uint64_t>(total);
  return finish(sum + tail_sum(data, len), seed);
}

// From one vector up, AVX-512 needs no scalar tail: the last partial vector is a zero-masked load
// (masked-off bytes are not accessed, so it cannot fault), and its zero padding is summed like
// data: a zero word contributes nothing once the bias is corrected (the bias correction counts
// the whole vector), and an odd last byte is the low half of its zero-padded native word.
__attribute__((target("avx512f,avx512bw"))) uint16_t ones_sum_avx512(const uint8_t* data,
                                                                     size_t len, uint32_t seed) {
  constexpr size_t kVec = 64;
  // Below one vector the scalar tail is quicker than a masked load plus a vector reduction.
  if (len < kVec) return finish(tail_sum(data, len), seed);
  const uint64_t vec_bytes = (len + kVec - 1) & ~(kVec - 1);
  const bool is_short = len < 4 * kVec;
  int64_t total = 0;
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  while (len >= 4 * kVec) {
    size_t n = len / (4 * kVec);
    if (n > kMaxLaneAdds - 1) n = kMaxLaneAdds - 1;
    len -= n * 4 * kVec;
    do {
      a0 = step_avx512(a0, _mm512_loadu_si512(data));
      a1 = step_avx512(a1, _mm512_loadu_si512(data + kVec));
      a2 = step_avx512(a2, _mm512_loadu_si512(data + 2 * kVec));
      a3 = step_avx512(a3, _mm512_loadu_si512(data + 3 * kVec));
      data += 4 * kVec;
    } while (--n != 0);
    if (len >= 4 * kVec) {
      total += reduce_avx512(a0, a1, a2, a3);
      a0 = a1 = a2 = a3 = _mm512_setzero_si512();
    }
  }
  if (len >= kVec) {
    a0 = step_avx512(a0, _mm512_loadu_si512(data));
    data += kVec;
    len -= kVec;
    if (len >= kVec) {
      a1 = step_avx512(a1, _mm512_loadu_si512(data));
      data += kVec;
      len -= kVec;
      if (len >= kVec) {
        a2 = step_avx512(a2, _mm512_loadu_si512(data));
        data += kVec;
        len -= kVec;
      }
    }
  }
  if (len != 0) {  // 1..63 bytes left
    const __mmask64 mask = (uint64_t{1} << len) - 1;
    a3 = step_avx512(a3, _mm512_maskz_loadu_epi8(mask, data));
  }
  total += is_short ? reduce_short_avx512(a0, a1, a2, a3) : reduce_avx512(a0, a1, a2, a3);
  return finish(vec_bytes * kBiasPerByte + static_cast<uint64_t>(total), seed);
}

}  // namespace tuntcp::proto::csum::x86

#endif  // TUNTCP_CSUM_X86
