// SYN cookies (RFC 4987 3.6): when a listener's backlog of half-open connections is full, its
// SYN-ACK carries all the state the handshake needs in our initial sequence number, and the
// connection is created only when the ACK returns that number, so a SYN flood costs no memory.
//
// Encoded as Linux's net/ipv4/syncookies.c does:
//   ISS = H0(4-tuple) + SEG.SEQ + (count << 24) + ((H1(4-tuple, count) + mss_index) mod 2^24)
// where H0, H1 are SipHash-2-4 under two keys derived from the caller's secret and `count`
// ticks once a minute. The ACK's SEG.ACK - 1 is checked by stripping those layers again: the
// count must be at most kCookieMaxAge - 1 ticks old and the remainder a valid MSS table index.
// As in Linux, SEG.SEQ and the index enter by addition: an ACK whose numbers are off by less
// than 8 decodes a neighbouring MSS; any other change breaks the keyed-hash layers.
// A cookie has no room for the other SYN options; when the peer offered timestamps, the low
// bits of our SYN-ACK's TSval carry its window scale and SACK-permitted (Linux
// cookie_init_timestamp), and the ACK's TSecr brings them back. Without timestamps they are
// lost, so the cookie SYN-ACK offers neither (RFC 7323 2.2, RFC 2018 2: both sides must agree).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "proto/tcp/isn.h"
#include "proto/tcp/seq.h"

namespace tuntcp::proto::tcp {

// The MSS values a cookie can express (3 bits). Linux's IPv4 table {536, 1300, 1440, 1460}
// plus four for the large MTUs a TUN link often has (jumbo 9000, 16 KB, 32 KB, 64 KB - 1).
// A peer's MSS is rounded down to an entry, never up: the peer never gets bigger segments
// than it asked for.
inline constexpr std::array<uint16_t, 8> kCookieMssTable = {536,  1300,  1440,  1460,
                                                            8960, 16344, 32728, 65495};

inline constexpr uint64_t kCookieTickUs = 60'000'000;  // Linux tcp_cookie_time(): minutes
inline constexpr uint32_t kCookieMaxAge = 2;           // Linux MAX_SYNCOOKIE_AGE, in ticks
// How long after the last cookie sent an ACK may still carry one (the worst-case lifetime).
inline constexpr uint64_t kCookieLifetimeUs = kCookieMaxAge * kCookieTickUs;

// The 4-tuple, seen from us.
struct CookieTuple {
  uint32_t local_addr = 0;
  uint32_t remote_addr = 0;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
};

// What a cookie handshake remembers of the peer's SYN.
struct CookieOptions {
  uint16_t mss = 536;             // a kCookieMssTable entry
  std::optional<uint8_t> wscale;  // the peer's shift (only when timestamps carried it)
  bool sack = false;              // the peer sent SACK-permitted (ditto)
};

class SynCookies {
 public:
  explicit SynCookies(const SipKey& secret);

  // The largest table entry not above the peer's MSS (index 0, 536, if it is below them all:
  // RFC 9293 3.7.1's default).
  static uint32_t mss_index(uint16_t peer_mss);

  // Our ISS for a SYN from `t` with sequence number `peer_isn`.
  Seq make(const CookieTuple& t, Seq peer_isn, uint32_t mss_index, uint64_t now_us) const;
  // The MSS encoded in `cookie` (= SEG.ACK - 1 of the returning ACK, whose SEG.SEQ - 1 is
  // `peer_isn`), or nullopt if it was not made for this 4-tuple and ISN or is too old.
  std::optional<uint16_t> check(const CookieTuple& t, Seq peer_isn, Seq cookie,
                                uint64_t now_us) const;

 private:
  uint32_t hash(const CookieTuple& t, uint32_t count, int which) const;
  SipKey keys_[2];
};

// The TSval of a cookie SYN-ACK: our clock `ts_now` with its low 6 bits replaced by the peer's
// window scale (0-14, 15 = none) and SACK-permitted (bit 4); moved back one step if that would
// run ahead of the clock, so later TSvals never go backwards (RFC 7323 5.4).
uint32_t cookie_tsval(uint32_t ts_now, std::optional<uint8_t> peer_wscale, bool sack);
// Reads them back from the ACK's TSecr into `o`.
void decode_cookie_tsecr(uint32_t tsecr, CookieOptions& o);

}  // namespace tuntcp::proto::tcp
