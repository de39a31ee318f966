#include "engine/services/iperf2_header.h"

#include <algorithm>

namespace tuntcp::engine::services::iperf2 {
namespace {

uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 |
         uint32_t{b[at + 3]};
}

// Limits on what a header may ask the server to send: a day, or a terabyte.
constexpr uint64_t kMaxDurationUs = 86400ull * 1000000;
constexpr uint64_t kMaxBytes = 1ull << 40;

}  // namespace

uint32_t read_flags(std::span<const uint8_t, 4> first) { return be32(first, 0); }

size_t header_size(uint32_t flags) {
  if (flags & kHeaderExtend) return kExtendedSize;
  if (flags & kHeaderVersion1) return kV1Size;
  return 4;  // no header: the first bytes are data
}

Plan parse_plan(std::span<const uint8_t> header) {
  Plan p;
  if (header.size() < 4) return p;
  const uint32_t flags = be32(header, 0);
  if (header.size() < header_size(flags) || header.size() < kV1Size) return p;
  const auto amount = static_cast<int32_t>(be32(header, 0x14));
  if (amount < 0) {
    p.duration_us = std::min<uint64_t>(static_cast<uint64_t>(-static_cast<int64_t>(amount)) * 10000,
                                       kMaxDurationUs);
  } else {
    p.bytes = std::min<uint64_t>(static_cast<uint64_t>(amount), kMaxBytes);
  }
  p.callback_port = static_cast<uint16_t>(be32(header, 0x08));
  uint16_t upper = 0;
  if ((flags & kHeaderExtend) && header.size() >= kExtendedSize)
    upper = static_cast<uint16_t>(be32(header, 0x20) >> 16);
  if (upper & kUpperFullDuplex) {
    p.mode = Mode::kFullDuplex;
  } else if (upper & kUpperReverse) {
    p.mode = Mode::kReverse;
  } else if (flags & kHeaderVersion1) {
    p.mode = (flags & kRunNow) ? Mode::kDualTest : Mode::kTradeoff;
  }
  // Nothing to send for: a plain stream after all.
  if (p.mode != Mode::kReceive && p.duration_us == 0 && p.bytes == 0) p.mode = Mode::kReceive;
  if ((p.mode == Mode::kDualTest || p.mode == Mode::kTradeoff) && p.callback_port == 0)
    p.mode = Mode::kReceive;
  return p;
}

}  // namespace tuntcp::engine::services::iperf2
