// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Conventions used everywhere in tuntcp:
//  * A "sum" is the 16-bit one's-complement sum of the data read as big-endian 16-bit words
//    (an odd trailing byte is padded with a zero byte), returned as a plain number: the bytes
//    {0x12, 0x34} sum to 0x1234. A sum may be seeded with an earlier sum (or a pseudo-header
//    sum) so that non-contiguous pieces can be summed in turn. Pieces after the first must
//    start at an even offset of the covered data for the result to be meaningful.
//  * A "checksum" is the complement of the sum, stored with store_be16().
//  * A buffer that already contains a correct checksum sums to 0xFFFF.
//
// Several implementations compute the same sum: a byte-wise reference (the test oracle),
// a 64-bit scalar with carries, and SSE2 / AVX2 / AVX-512 variants. The fastest one the CPU
// supports is chosen once, on first use, and ones_sum() calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tuntcp::proto::csum {

using SumFn = uint16_t (*)(const uint8_t* data, size_t len, uint32_t seed);

// Byte-at-a-time reference straight from RFC 1071 section 4.1. Slow; tests compare against it.
uint16_t ones_sum_reference(const uint8_t* data, size_t len, uint32_t seed = 0);
// 64-bit accumulator with add-with-carry, 32 bytes per step. The portable fast path.
uint16_t ones_sum_scalar64(const uint8_t* data, size_t len, uint32_t seed = 0);

struct Variant {
  const char* name;  // "reference", "scalar64", "sse2", "avx2", "avx512"
  SumFn fn;
  bool supported;  // the running CPU has the instructions this variant needs
};
// Every variant compiled in, in order from slowest to fastest.
std::span<const Variant> variants();
// The variant ones_sum() dispatches to.
const Variant& active_variant();
// Forces a variant by name (for benchmarks and tests); returns false if unknown or unsupported.
bool select_variant(const char* name);

// The dispatched sum. Hot path.
uint16_t ones_sum(const uint8_t* data, size_t len, uint32_t seed = 0);

inline uint16_t fold(uint64_t sum) {
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Checksum value to store in a header: the complement of the sum.
inline uint16_t checksum(const uint8_t* data, size_t len, uint32_t seed = 0) {
  return static_cast<uint16_t>(~ones_sum(data, len, seed));
}

// Sum of the IPv4 pseudo-header used by TCP and UDP (RFC 9293 3.1, RFC 768).
inline uint32_t pseudo_header_sum_v4(uint32_t src, uint32_t dst, uint8_t protocol,
                                     uint16_t length) {
  uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + protocol + length;
  return fold(s);
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field that changed from m to m'.
inline uint16_t update16(uint16_t old_checksum, uint16_t old_word, uint16_t new_word) {
  uint32_t s = static_cast<uint16_t>(~old_checksum) + static_cast<uint16_t>(~old_word) + new_word;
  return static_cast<uint16_t>(~fold(s));
}
// The same for a 32-bit field (an address, a sequence number).
inline uint16_t update32(uint16_t old_checksum, uint32_t old_value, uint32_t new_value) {
  uint16_t c = update16(old_checksum, static_cast<uint16_t>(old_value >> 16),
                        static_cast<uint16_t>(new_value >> 16));
  return update16(c, static_cast<uint16_t>(old_value), static_cast<uint16_t>(new_value));
}

}  // namespace tuntcp::proto::csum
