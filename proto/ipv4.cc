#include "proto/ipv4.h"

#include <charconv>

#include "proto/bytes.h"
#include "proto/checksum.h"

namespace tuntcp::proto {

std::string_view to_string(Ipv4Drop d) {
  switch (d) {
    case Ipv4Drop::kNone: return "none";
    case Ipv4Drop::kTruncated: return "ip_truncated";
    case Ipv4Drop::kNotIpv4: return "ip_not_ipv4";
    case Ipv4Drop::kBadIhl: return "ip_bad_ihl";
    case Ipv4Drop::kBadTotalLength: return "ip_bad_total_length";
    case Ipv4Drop::kBadChecksum: return "ip_bad_checksum";
    case Ipv4Drop::kBadSource: return "ip_bad_source";
    case Ipv4Drop::kNotForUs: return "ip_not_for_us";
    case Ipv4Drop::kFragment: return "ip_fragment";
    case Ipv4Drop::kCount: break;
  }
  return "?";
}

Ipv4ParseResult parse_ipv4(std::span<const uint8_t> bytes, uint32_t local_addr) {
  Ipv4ParseResult r;
  if (bytes.size() < kIpv4MinHeader) {
    r.drop = bytes.empty() || (bytes[0] >> 4) == 4 ? Ipv4Drop::kTruncated : Ipv4Drop::kNotIpv4;
    return r;
  }
  const uint8_t* h = bytes.data();
  if ((h[0] >> 4) != 4) return {Ipv4Drop::kNotIpv4, {}};
  const size_t ihl = static_cast<size_t>(h[0] & 0x0f) * 4;
  if (ihl < kIpv4MinHeader || ihl > bytes.size()) return {Ipv4Drop::kBadIhl, {}};
  const uint16_t total = load_be16(h + 2);
  // RFC 1122 3.2.1.1 / 3.2.1.2: a datagram whose total length disagrees with what arrived is
  // silently discarded. Extra trailing bytes (link padding) are allowed and ignored.
  if (total < ihl || total > bytes.size()) return {Ipv4Drop::kBadTotalLength, {}};
  if (csum::ones_sum(h, ihl) != 0xffff) return {Ipv4Drop::kBadChecksum, {}};
  const uint32_t src = load_be32(h + 12);
  const uint32_t dst = load_be32(h + 16);
  // RFC 1122 3.2.1.3: a host must silently discard a datagram with an invalid source address.
  if (is_multicast(src) || is_limited_broadcast(src) || is_loopback(src) || is_unspecified(src))
    return {Ipv4Drop::kBadSource, {}};
  if (dst != local_addr) return {Ipv4Drop::kNotForUs, {}};
  const uint16_t frag = load_be16(h + 6);
  if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) return {Ipv4Drop::kFragment, {}};
  r.view.header = h;
  r.view.header_len = static_cast<uint8_t>(ihl);
  r.view.total_len = total;
  r.view.protocol = h[9];
  r.view.ttl = h[8];
  r.view.id = load_be16(h + 4);
  r.view.src = src;
  r.view.dst = dst;
  return r;
}

void emit_ipv4(const Ipv4Repr& repr, uint8_t* out) {
  out[0] = 0x45;
  out[1] = 0;
  store_be16(out + 2, static_cast<uint16_t>(kIpv4MinHeader + repr.payload_len));
  store_be16(out + 4, repr.id);
  store_be16(out + 6, repr.dont_fragment ? 0x4000 : 0);
  out[8] = repr.ttl;
  out[9] = repr.protocol;
  store_be16(out + 10, 0);
  store_be32(out + 12, repr.src);
  store_be32(out + 16, repr.dst);
  store_be16(out + 10, csum::checksum(out, kIpv4MinHeader));
}

bool parse_ipv4_addr(std::string_view text, uint32_t& out) {
  uint32_t addr = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    if (p == end || *p < '0' || *p > '9') return false;
    unsigned octet = 0;
    auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc() || octet > 255 || next - p > 3) return false;
    p = next;
    addr = addr << 8 | octet;
    if (i < 3) {
      if (p == end || *p != '.') return false;
      ++p;
    }
  }
  if (p != end) return false;
  out = addr;
  return true;
}

std::string format_ipv4_addr(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." +
         std::to_string((a >> 8) & 0xff) + "." + std::to_string(a & 0xff);
}

}  // namespace tuntcp::proto
