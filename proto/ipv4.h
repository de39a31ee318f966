// IPv4 header parsing and validation (RFC 791, RFC 1122 3.2.1), sans-IO.
//
// parse_ipv4() checks everything a host must check before it trusts a datagram and says
// exactly why it rejected one, so the engine can count drops by reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tuntcp::proto {

namespace ipproto {
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
}  // namespace ipproto

inline constexpr size_t kIpv4MinHeader = 20;
inline constexpr size_t kIpv4MaxHeader = 60;

// Why a datagram was not accepted. The order is the order of the checks.
enum class Ipv4Drop : uint8_t {
  kNone = 0,
  kTruncated,        // fewer than 20 bytes
  kNotIpv4,          // version field is not 4 (IPv6 and others: not supported yet)
  kBadIhl,           // IHL < 5, or the header does not fit in the bytes read
  kBadTotalLength,   // total length < IHL*4 or > bytes read
  kBadChecksum,      // header checksum does not verify
  kBadSource,        // source is multicast, broadcast, loopback or 0 (RFC 1122 3.2.1.3)
  kNotForUs,         // destination is not our address
  kFragment,         // MF set or offset != 0: reassembly is not supported
  kCount
};
std::string_view to_string(Ipv4Drop d);

// A validated view of an IPv4 datagram inside a packet buffer. Only parse_ipv4 makes one.
struct Ipv4View {
  const uint8_t* header = nullptr;
  uint8_t header_len = 0;    // IHL * 4
  uint16_t total_len = 0;    // from the header; <= bytes read (trailing padding is ignored)
  uint8_t protocol = 0;
  uint8_t ttl = 0;
  uint16_t id = 0;
  uint32_t src = 0;          // host byte order
  uint32_t dst = 0;          // host byte order
  std::span<const uint8_t> payload() const {
    return {header + header_len, static_cast<size_t>(total_len - header_len)};
  }
};

struct Ipv4ParseResult {
  Ipv4Drop drop = Ipv4Drop::kNone;
  Ipv4View view;
  bool ok() const { return drop == Ipv4Drop::kNone; }
};

// Validates `bytes` (one datagram as read from the TUN). `local_addr` is our address in host
// order; datagrams to any other destination are rejected with kNotForUs.
Ipv4ParseResult parse_ipv4(std::span<const uint8_t> bytes, uint32_t local_addr);

// Fields needed to write a 20-byte header (no options).
struct Ipv4Repr {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint8_t protocol = 0;
  uint8_t ttl = 64;
  uint16_t id = 0;
  uint16_t payload_len = 0;
  bool dont_fragment = true;
};
// Writes a 20-byte header with a correct checksum at `out` (which must have 20 bytes).
void emit_ipv4(const Ipv4Repr& repr, uint8_t* out);

// Address classification (host byte order).
inline bool is_multicast(uint32_t a) { return (a >> 28) == 0xe; }
inline bool is_limited_broadcast(uint32_t a) { return a == 0xffffffffu; }
inline bool is_loopback(uint32_t a) { return (a >> 24) == 127; }
inline bool is_unspecified(uint32_t a) { return a == 0; }

// "a.b.c.d" <-> host-order address. parse returns false on malformed input.
bool parse_ipv4_addr(std::string_view text, uint32_t& out);
std::string format_ipv4_addr(uint32_t addr);

}  // namespace tuntcp::proto
