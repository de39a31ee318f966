#include "proto/icmp.h"

#include <algorithm>
#include <cstring>

#include "proto/bytes.h"
#include "proto/checksum.h"

namespace tuntcp::proto::icmp {

std::string_view to_string(IcmpDrop d) {
  switch (d) {
    case IcmpDrop::kNone: return "none";
    case IcmpDrop::kTruncated: return "icmp_truncated";
    case IcmpDrop::kBadChecksum: return "icmp_bad_checksum";
    case IcmpDrop::kCount: break;
  }
  return "?";
}

IcmpParseResult parse_icmp(const Ipv4View& ip) {
  auto msg = ip.payload();
  if (msg.size() < kHeaderLen) return {IcmpDrop::kTruncated, 0, 0};
  if (csum::ones_sum(msg.data(), msg.size()) != 0xffff) return {IcmpDrop::kBadChecksum, 0, 0};
  return {IcmpDrop::kNone, msg[0], msg[1]};
}

size_t make_echo_reply_in_place(uint8_t* datagram, const Ipv4View& ip, uint16_t ip_id) {
  const size_t msg_len = ip.total_len - ip.header_len;
  uint8_t* msg = datagram + kIpv4MinHeader;
  if (ip.header_len != kIpv4MinHeader) {
    // Options are not echoed (Linux drops them from replies too): slide the message down.
    std::memmove(msg, datagram + ip.header_len, msg_len);
  }
  // Type 8 -> 0 changes the first 16-bit word from 0x08cc to 0x00cc: RFC 1624 update.
  const uint16_t old_word = load_be16(msg);
  msg[0] = kEchoReply;
  // RFC 1624 gives 0x0000 for all-zero contents, where only 0xffff verifies (RFC 1624 3: the
  // two zeros differ once the field itself is summed): use the form that verifies.
  const uint16_t c = csum::update16(load_be16(msg + 2), old_word, load_be16(msg));
  store_be16(msg + 2, c == 0 ? 0xffff : c);
  Ipv4Repr repr;
  repr.src = ip.dst;
  repr.dst = ip.src;
  repr.protocol = ipproto::kIcmp;
  repr.id = ip_id;
  repr.dont_fragment = false;
  repr.payload_len = static_cast<uint16_t>(msg_len);
  emit_ipv4(repr, datagram);
  return kIpv4MinHeader + msg_len;
}

size_t build_dest_unreachable(uint8_t* out, size_t cap, uint32_t local_addr, const Ipv4View& ip,
                              uint8_t code, uint16_t ip_id) {
  const size_t limit = std::min(cap, kMaxErrorDatagram);
  const size_t fixed = kIpv4MinHeader + kHeaderLen;
  const size_t min_quote = static_cast<size_t>(ip.header_len) + 8;
  if (limit < fixed + std::min<size_t>(min_quote, ip.total_len)) return 0;
  const size_t quote = std::min<size_t>(ip.total_len, limit - fixed);
  uint8_t* msg = out + kIpv4MinHeader;
  msg[0] = kDestUnreachable;
  msg[1] = code;
  store_be16(msg + 2, 0);
  store_be32(msg + 4, 0);  // unused
  std::memcpy(msg + kHeaderLen, ip.header, quote);
  store_be16(msg + 2, csum::checksum(msg, kHeaderLen + quote));
  Ipv4Repr repr;
  repr.src = local_addr;
  repr.dst = ip.src;
  repr.protocol = ipproto::kIcmp;
  repr.id = ip_id;
  repr.dont_fragment = false;
  repr.payload_len = static_cast<uint16_t>(kHeaderLen + quote);
  emit_ipv4(repr, out);
  return fixed + quote;
}

bool RateLimiter::allow(uint64_t now_us) {
  if (rate_ == 0) return false;
  if (!started_) {
    started_ = true;
    last_us_ = now_us;
  }
  if (now_us > last_us_) {
    // Clamp the idle time first so that the product cannot overflow.
    const uint64_t full_after = cap_ / rate_ + 1;
    const uint64_t dt = std::min(now_us - last_us_, full_after);
    credit_ = std::min(cap_, credit_ + dt * rate_);
    last_us_ = now_us;
  }
  if (credit_ < kUnit) return false;
  credit_ -= kUnit;
  return true;
}

}  // namespace tuntcp::proto::icmp
