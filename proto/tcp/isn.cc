#include "proto/tcp/isn.h"

#include <cstring>

#include "proto/bytes.h"

namespace tuntcp::proto::tcp {

namespace {

inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void absorb(uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // host is little-endian (proto/bytes.h asserts it)
}

}  // namespace

uint64_t siphash24(const SipKey& key, const uint8_t* data, size_t len) {
  SipState s{0x736f6d6570736575ULL ^ key.k0, 0x646f72616e646f6dULL ^ key.k1,
             0x6c7967656e657261ULL ^ key.k0, 0x7465646279746573ULL ^ key.k1};
  size_t full = len & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) s.absorb(load_le64(data + i));
  uint64_t last = static_cast<uint64_t>(len & 0xff) << 56;
  for (size_t i = 0; i < (len & 7); ++i) last |= static_cast<uint64_t>(data[full + i]) << (8 * i);
  s.absorb(last);
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

Seq IsnGenerator::isn(uint32_t local_ip, uint16_t local_port, uint32_t remote_ip,
                      uint16_t remote_port, uint64_t now_us) const {
  uint8_t tuple[12];
  store_be32(tuple, local_ip);
  store_be32(tuple + 4, remote_ip);
  store_be16(tuple + 8, local_port);
  store_be16(tuple + 10, remote_port);
  uint32_t f = static_cast<uint32_t>(siphash24(key_, tuple, sizeof tuple));
  uint32_t m = static_cast<uint32_t>(now_us / 4);  // RFC 6528 3: M ticks every 4 us
  return Seq(m + f);
}

}  // namespace tuntcp::proto::tcp
