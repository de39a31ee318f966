// The virtio-net header that precedes every packet on a TUN opened with IFF_VNET_HDR
// (Linux include/uapi/linux/virtio_net.h). Our own copy: the system header has a member named
// `class`, which C++ cannot include. Fields are little-endian (the TUN default on x86).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tuntcp::io {

struct VnetHdr {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;      // bytes of headers (IP + TCP) in a GSO packet
  uint16_t gso_size = 0;     // MSS of the segments a GSO packet stands for
  uint16_t csum_start = 0;   // NEEDS_CSUM: where the checksummed part starts ...
  uint16_t csum_offset = 0;  // ... and where, from there, the checksum goes
  uint16_t num_buffers = 0;  // unused on TUN; keeps the 12-byte size set with TUNSETVNETHDRSZ
};
static_assert(sizeof(VnetHdr) == 12);

inline constexpr size_t kVnetHdrLen = sizeof(VnetHdr);

namespace vnet {
inline constexpr uint8_t kNeedsCsum = 1;  // the checksum field holds only the pseudo-header sum
inline constexpr uint8_t kDataValid = 2;  // the kernel vouches for the checksum
inline constexpr uint8_t kGsoNone = 0;
inline constexpr uint8_t kGsoTcpV4 = 1;
inline constexpr uint8_t kGsoTcpV6 = 4;
inline constexpr uint8_t kGsoEcn = 0x80;
}  // namespace vnet

inline VnetHdr read_vnet(const uint8_t* p) {
  VnetHdr h;
  std::memcpy(&h, p, sizeof h);
  return h;
}
inline void write_vnet(uint8_t* p, const VnetHdr& h) { std::memcpy(p, &h, sizeof h); }

}  // namespace tuntcp::io
