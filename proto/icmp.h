// ICMPv4 (RFC 792, RFC 1122 3.2.2): echo replies built in place, destination-unreachable
// errors, and the token bucket that rate-limits errors (RFC 1812 4.3.2.8, as Linux does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proto/ipv4.h"

namespace tuntcp::proto::icmp {

inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestUnreachable = 3;
inline constexpr uint8_t kEchoRequest = 8;
inline constexpr uint8_t kCodeProtocolUnreachable = 2;
inline constexpr uint8_t kCodePortUnreachable = 3;
inline constexpr size_t kHeaderLen = 8;
// RFC 1812 4.3.2.3: an ICMP error carries as much of the offending datagram as fits without
// the error exceeding 576 bytes (Linux does the same).
inline constexpr size_t kMaxErrorDatagram = 576;

enum class IcmpDrop : uint8_t { kNone = 0, kTruncated, kBadChecksum, kCount };
std::string_view to_string(IcmpDrop d);

struct IcmpParseResult {
  IcmpDrop drop = IcmpDrop::kNone;
  uint8_t type = 0;
  uint8_t code = 0;
  bool ok() const { return drop == IcmpDrop::kNone; }
};
// Validates the ICMP message carried by `ip` (length and checksum).
IcmpParseResult parse_icmp(const Ipv4View& ip);

// Turns the echo request `ip` (inside a writable buffer starting at `datagram`, which is the
// same memory as ip.header) into an echo reply to its sender, in place: addresses swapped, type
// 0, the identifier, sequence number and data returned unchanged (RFC 1122 3.2.2.6), IP options
// removed. Returns the reply's length in bytes.
size_t make_echo_reply_in_place(uint8_t* datagram, const Ipv4View& ip, uint16_t ip_id);

// Writes a destination-unreachable error (type 3, `code`) about datagram `ip` into `out`
// (capacity `cap`, at least 28 + header of ip + 8). Returns its length, or 0 if it does not fit.
size_t build_dest_unreachable(uint8_t* out, size_t cap, uint32_t local_addr, const Ipv4View& ip,
                              uint8_t code, uint16_t ip_id);

// A token bucket: `rate` tokens per second, at most `burst` saved. Time comes in as µs.
class RateLimiter {
 public:
  RateLimiter(uint32_t rate_per_sec, uint32_t burst)
      : rate_(rate_per_sec), cap_(uint64_t{burst} * kUnit), credit_(cap_) {}
  bool allow(uint64_t now_us);

 private:
  // Credit is kept in millionths of a token: each microsecond earns `rate` of them, exactly,
  // so no rounding ever hands out extra tokens.
  static constexpr uint64_t kUnit = 1000000;
  uint32_t rate_;
  uint64_t cap_;
  uint64_t credit_;
  uint64_t last_us_ = 0;
  bool started_ = false;
};

}  // namespace tuntcp::proto::icmp
