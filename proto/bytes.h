// Big-endian (network order) loads and stores on unaligned bytes.
// memcpy + byteswap compiles to a single mov/movbe; never cast packet bytes to wider types.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace tuntcp::proto {

inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline void store_be16(uint8_t* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

static_assert(std::endian::native == std::endian::little, "tuntcp assumes a little-endian host");

}  // namespace tuntcp::proto
