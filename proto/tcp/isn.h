// Initial sequence numbers (RFC 6528) and the SipHash-2-4 keyed hash they use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/tcp/seq.h"

namespace tuntcp::proto::tcp {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

// SipHash-2-4 (Aumasson & Bernstein), the reference algorithm over `len` bytes.
uint64_t siphash24(const SipKey& key, const uint8_t* data, size_t len);

// RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where M is a
// timer ticking every 4 microseconds and F a keyed hash. The secret comes from the caller
// (random at start-up); the time from the caller's clock.
class IsnGenerator {
 public:
  explicit IsnGenerator(const SipKey& secret) : key_(secret) {}
  Seq isn(uint32_t local_ip, uint16_t local_port, uint32_t remote_ip, uint16_t remote_port,
          uint64_t now_us) const;

 private:
  SipKey key_;
};

}  // namespace tuntcp::proto::tcp
