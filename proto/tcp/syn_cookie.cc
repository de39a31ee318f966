#include "proto/tcp/syn_cookie.h"

#include "proto/bytes.h"

namespace tuntcp::proto::tcp {

namespace {
constexpr uint32_t kCookieBits = 24;  // Linux COOKIEBITS: the low 24 bits hold hash + index
constexpr uint32_t kCookieMask = (1u << kCookieBits) - 1;
constexpr uint32_t kTsBits = 6;  // Linux TSBITS: option bits at the bottom of the TSval
constexpr uint32_t kTsWscaleMask = 0xf;
constexpr uint32_t kTsSack = 1u << 4;

uint32_t tick(uint64_t now_us) { return static_cast<uint32_t>(now_us / kCookieTickUs); }
}  // namespace

SynCookies::SynCookies(const SipKey& secret) {
  // Two keys of their own, so that cookies reveal nothing about the ISN hash of RFC 6528
  // (which uses `secret` directly) and the two layers of a cookie are independent.
  for (int i = 0; i < 2; ++i) {
    uint8_t label[8] = {'c', 'o', 'o', 'k', 'i', 'e', static_cast<uint8_t>(i), 0};
    const uint64_t k0 = siphash24(secret, label, sizeof label);
    label[7] = 1;
    keys_[i] = SipKey{k0, siphash24(secret, label, sizeof label)};
  }
}

uint32_t SynCookies::mss_index(uint16_t peer_mss) {
  uint32_t i = kCookieMssTable.size() - 1;
  while (i > 0 && kCookieMssTable[i] > peer_mss) --i;
  return i;
}

uint32_t SynCookies::hash(const CookieTuple& t, uint32_t count, int which) const {
  uint8_t m[16];
  store_be32(m, t.local_addr);
  store_be32(m + 4, t.remote_addr);
  store_be16(m + 8, t.local_port);
  store_be16(m + 10, t.remote_port);
  store_be32(m + 12, count);
  return static_cast<uint32_t>(siphash24(keys_[which], m, sizeof m));
}

Seq SynCookies::make(const CookieTuple& t, Seq peer_isn, uint32_t mss_index,
                     uint64_t now_us) const {
  const uint32_t count = tick(now_us);
  return peer_isn +
         (hash(t, 0, 0) + (count << kCookieBits) + ((hash(t, count, 1) + mss_index) & kCookieMask));
}

std::optional<uint16_t> SynCookies::check(const CookieTuple& t, Seq peer_isn, Seq cookie,
                                          uint64_t now_us) const {
  const uint32_t count = tick(now_us);
  // What is left is (count_then << 24) + ((H1(count_then) + index) mod 2^24).
  const uint32_t rest = cookie.since(peer_isn) - hash(t, 0, 0);
  const uint32_t age = (count - (rest >> kCookieBits)) & (~0u >> kCookieBits);
  if (age >= kCookieMaxAge) return std::nullopt;
  const uint32_t index = (rest - hash(t, count - age, 1)) & kCookieMask;
  if (index >= kCookieMssTable.size()) return std::nullopt;  // forged: 8 in 2^24 pass this
  return kCookieMssTable[index];
}

uint32_t cookie_tsval(uint32_t ts_now, std::optional<uint8_t> peer_wscale, bool sack) {
  uint32_t options = peer_wscale ? (*peer_wscale > 14 ? 14u : *peer_wscale) : kTsWscaleMask;
  if (sack) options |= kTsSack;
  uint32_t ts = ((ts_now >> kTsBits) << kTsBits) | options;
  if (static_cast<int32_t>(ts - ts_now) > 0) ts -= 1u << kTsBits;
  return ts;
}

void decode_cookie_tsecr(uint32_t tsecr, CookieOptions& o) {
  const uint32_t ws = tsecr & kTsWscaleMask;
  o.wscale = ws == kTsWscaleMask ? std::nullopt : std::optional<uint8_t>(static_cast<uint8_t>(ws));
  o.sack = (tsecr & kTsSack) != 0;
}

}  // namespace tuntcp::proto::tcp
