// ICMPv4 (RFC 792, RFC 1122 3.2.2): parse_icmp length/checksum checks, echo replies built in
// place (every payload size a 1500-byte MTU allows, with and without IP options),
// destination-unreachable errors (RFC 1812 4.3.2.3 quoting, 576-byte cap) and the token-bucket
// rate limiter driven by fake time.
#include "proto/checksum.h"
#include "proto/icmp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "proto/bytes.h"
#include "proto/ipv4.h"

namespace tuntcp::proto::icmp {
namespace {

constexpr uint32_t kLocal = 0xc6120002;   // 198.18.0.2 (tuntcp)
constexpr uint32_t kRemote = 0xc6120001;  // 198.18.0.1 (the kernel)

// RFC 1071, independent of proto/checksum.
uint16_t oracle_sum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) s += static_cast<uint32_t>(p[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}
uint16_t oracle_checksum(const uint8_t* p, size_t n) {
  return static_cast<uint16_t>(~oracle_sum(p, n));
}

// An IPv4 datagram (IHL `ihl_words`, options: NOPs then EOL) carrying `msg` as its payload.
std::vector<uint8_t> wrap_ipv4(const std::vector<uint8_t>& msg, uint8_t protocol,
                               uint8_t ihl_words = 5, uint32_t src = kRemote,
                               uint32_t dst = kLocal) {
  const size_t ihl = ihl_words * 4u;
  std::vector<uint8_t> d(ihl + msg.size());
  d[0] = static_cast<uint8_t>(0x40 | ihl_words);
  d[1] = 0x10;
  store_be16(&d[2], static_cast<uint16_t>(d.size()));
  store_be16(&d[4], 0x5151);
  store_be16(&d[6], 0x4000);
  d[8] = 63;
  d[9] = protocol;
  store_be32(&d[12], src);
  store_be32(&d[16], dst);
  for (size_t i = 20; i < ihl; ++i) d[i] = i + 1 == ihl ? 0 : 1;
  store_be16(&d[10], oracle_checksum(d.data(), ihl));
  if (!msg.empty()) std::memcpy(d.data() + ihl, msg.data(), msg.size());
  return d;
}

std::vector<uint8_t> echo_request_msg(uint16_t id, uint16_t seq, size_t data_len, uint32_t seed) {
  std::vector<uint8_t> m(kHeaderLen + data_len);
  m[0] = kEchoRequest;
  m[1] = 0;
  store_be16(&m[4], id);
  store_be16(&m[6], seq);
  std::mt19937 rng(seed);
  for (size_t i = 0; i < data_len; ++i) m[kHeaderLen + i] = static_cast<uint8_t>(rng());
  store_be16(&m[2], oracle_checksum(m.data(), m.size()));
  return m;
}

Ipv4View view_of(const std::vector<uint8_t>& d, uint32_t local = kLocal) {
  auto r = parse_ipv4(d, local);
  EXPECT_TRUE(r.ok()) << to_string(r.drop);
  return r.view;
}

// ----------------------------------------------------------------------------------------------
// parse_icmp

TEST(IcmpParse, ValidEchoRequestIsAcceptedWithTypeAndCode) {
  auto d = wrap_ipv4(echo_request_msg(1, 2, 56, 1), ipproto::kIcmp);
  auto r = parse_icmp(view_of(d));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.type, kEchoRequest);
  EXPECT_EQ(r.code, 0);
}

TEST(IcmpParse, OddLengthMessageChecksumVerifies) {
  for (size_t data_len : {1u, 3u, 57u, 1471u}) {
    auto d = wrap_ipv4(echo_request_msg(1, 2, data_len, 2), ipproto::kIcmp);
    EXPECT_TRUE(parse_icmp(view_of(d)).ok()) << data_len;
  }
}

TEST(IcmpParse, MessageShorterThan8BytesIsTruncated) {
  for (size_t n = 0; n < kHeaderLen; ++n) {
    std::vector<uint8_t> msg(n, 0);
    if (n > 0) msg[0] = kEchoRequest;
    auto d = wrap_ipv4(msg, ipproto::kIcmp);
    EXPECT_EQ(parse_icmp(view_of(d)).drop, IcmpDrop::kTruncated) << "n=" << n;
  }
}

TEST(IcmpParse, ExactlyEightBytesIsEnough) {
  auto d = wrap_ipv4(echo_request_msg(7, 7, 0, 3), ipproto::kIcmp);
  EXPECT_TRUE(parse_icmp(view_of(d)).ok());
}

TEST(IcmpParse, AnySingleBitErrorIsABadChecksum) {
  const auto good = echo_request_msg(0x1111, 0x2222, 21, 4);
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      auto msg = good;
      msg[byte] ^= static_cast<uint8_t>(1u << bit);
      auto d = wrap_ipv4(msg, ipproto::kIcmp);
      EXPECT_EQ(parse_icmp(view_of(d)).drop, IcmpDrop::kBadChecksum)
          << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(IcmpParse, ChecksumCoversOnlyTheMessageNotIpPadding) {
  auto d = wrap_ipv4(echo_request_msg(1, 1, 9, 5), ipproto::kIcmp);
  d.push_back(0x77);  // link padding after total_len
  d.push_back(0x01);
  EXPECT_TRUE(parse_icmp(view_of(d)).ok());
}

TEST(IcmpParse, EveryDropReasonHasADistinctName) {
  EXPECT_EQ(to_string(IcmpDrop::kNone), "none");
  EXPECT_NE(to_string(IcmpDrop::kTruncated), to_string(IcmpDrop::kBadChecksum));
  EXPECT_NE(to_string(IcmpDrop::kTruncated), "?");
  EXPECT_NE(to_string(IcmpDrop::kBadChecksum), "?");
}

// ----------------------------------------------------------------------------------------------
// make_echo_reply_in_place

// Checks that `reply` (len bytes) is the echo reply to `request` (a copy taken before the call).
void expect_reply_to(const std::vector<uint8_t>& request, const uint8_t* reply, size_t len,
                     uint16_t ip_id) {
  const size_t req_ihl = static_cast<size_t>(request[0] & 0x0f) * 4;
  const size_t req_total = load_be16(&request[2]);
  const size_t msg_len = req_total - req_ihl;
  ASSERT_EQ(len, 20 + msg_len);
  // IP header: 20 bytes, no options, addresses swapped, valid checksum.
  std::vector<uint8_t> r(reply, reply + len);
  auto ip = parse_ipv4(r, load_be32(&request[12]));
  ASSERT_TRUE(ip.ok()) << to_string(ip.drop);
  EXPECT_EQ(r[0], 0x45);
  EXPECT_EQ(oracle_sum(r.data(), 20), 0xffff);
  EXPECT_EQ(ip.view.src, load_be32(&request[16]));
  EXPECT_EQ(ip.view.dst, load_be32(&request[12]));
  EXPECT_EQ(ip.view.protocol, ipproto::kIcmp);
  EXPECT_EQ(ip.view.id, ip_id);
  EXPECT_GT(ip.view.ttl, 0);
  EXPECT_EQ(ip.view.total_len, len);
  // ICMP: type 0, same code/id/seq/data, valid checksum.
  const uint8_t* m = r.data() + 20;
  const uint8_t* q = request.data() + req_ihl;
  EXPECT_EQ(m[0], kEchoReply);
  EXPECT_EQ(m[1], q[1]);
  EXPECT_EQ(oracle_sum(m, msg_len), 0xffff) << "ICMP checksum, msg_len=" << msg_len;
  EXPECT_EQ(load_be16(m + 4), load_be16(q + 4)) << "identifier";
  EXPECT_EQ(load_be16(m + 6), load_be16(q + 6)) << "sequence number";
  EXPECT_EQ(std::memcmp(m + 8, q + 8, msg_len - 8), 0) << "data";
  auto parsed = parse_icmp(ip.view);
  EXPECT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.type, kEchoReply);
}

TEST(IcmpEcho, ReplyIsCorrectForEveryPayloadSizeUpTo1472) {
  for (size_t n = 0; n <= 1472; ++n) {
    SCOPED_TRACE("data bytes " + std::to_string(n));
    auto d = wrap_ipv4(echo_request_msg(static_cast<uint16_t>(0xabc0 + n),
                                        static_cast<uint16_t>(n), n, static_cast<uint32_t>(n)),
                       ipproto::kIcmp);
    ASSERT_EQ(d.size(), 28 + n);
    const auto request = d;
    const auto view = view_of(d);
    ASSERT_TRUE(parse_icmp(view).ok());
    const uint16_t ip_id = static_cast<uint16_t>(n * 31);
    const size_t len = make_echo_reply_in_place(d.data(), view, ip_id);
    expect_reply_to(request, d.data(), len, ip_id);
    if (HasFatalFailure()) return;
  }
}

TEST(IcmpEcho, ReplyDropsIpOptionsAndKeepsTheDataIntact) {
  for (uint8_t words = 6; words <= 15; ++words) {
    for (size_t n : {0u, 1u, 56u, 1000u, 1432u}) {
      SCOPED_TRACE("ihl " + std::to_string(words) + " data " + std::to_string(n));
      auto d = wrap_ipv4(echo_request_msg(0x7777, words, n, words * 1000u + n), ipproto::kIcmp,
                         words);
      const auto request = d;
      const auto view = view_of(d);
      ASSERT_EQ(view.header_len, words * 4);
      const size_t len = make_echo_reply_in_place(d.data(), view, 9);
      EXPECT_EQ(len, 28 + n);
      expect_reply_to(request, d.data(), len, 9);
    }
  }
}

TEST(IcmpEcho, ReplyIgnoresTrailingPadding) {
  auto d = wrap_ipv4(echo_request_msg(1, 2, 18, 8), ipproto::kIcmp);
  const auto request = d;
  d.resize(d.size() + 20, 0xcc);
  const auto view = view_of(d);
  const size_t len = make_echo_reply_in_place(d.data(), view, 1);
  expect_reply_to(request, d.data(), len, 1);
}

TEST(IcmpEcho, ReplyChecksumIsRightForEveryRequestChecksumValue) {
  // Two data bytes take all 65536 values, so the request checksum takes every value once:
  // exercises the RFC 1624 incremental update's corner cases (0x0000, 0xffff, carries).
  std::vector<uint8_t> msg(kHeaderLen + 2, 0);
  msg[0] = kEchoRequest;
  store_be16(&msg[4], 0x0102);
  store_be16(&msg[6], 0x0304);
  int failures = 0;
  for (uint32_t w = 0; w <= 0xffff && failures < 5; ++w) {
    store_be16(&msg[8], static_cast<uint16_t>(w));
    store_be16(&msg[2], 0);
    store_be16(&msg[2], oracle_checksum(msg.data(), msg.size()));
    auto d = wrap_ipv4(msg, ipproto::kIcmp);
    const auto view = view_of(d);
    const size_t len = make_echo_reply_in_place(d.data(), view, 0);
    if (oracle_sum(d.data() + 20, len - 20) != 0xffff) {
      ADD_FAILURE() << "bad reply checksum for request checksum 0x" << std::hex
                    << load_be16(&msg[2]);
      ++failures;
    }
  }
}

TEST(IcmpEcho, RequestWithNegativeZeroChecksumGetsAValidReply) {
  // 0xffff and 0x0000 both verify (one's complement has two zeros). Find a request whose
  // computed checksum is 0x0000, send it with 0xffff instead, and check the reply.
  std::vector<uint8_t> msg(kHeaderLen + 2, 0);
  msg[0] = kEchoRequest;
  bool found = false;
  for (uint32_t w = 0; w <= 0xffff; ++w) {
    store_be16(&msg[8], static_cast<uint16_t>(w));
    store_be16(&msg[2], 0);
    if (oracle_checksum(msg.data(), msg.size()) == 0) {
      found = true;
      break;
    }
  }
  ASSERT_TRUE(found);
  store_be16(&msg[2], 0xffff);
  auto d = wrap_ipv4(msg, ipproto::kIcmp);
  const auto view = view_of(d);
  ASSERT_TRUE(parse_icmp(view).ok());
  const size_t len = make_echo_reply_in_place(d.data(), view, 0);
  EXPECT_EQ(oracle_sum(d.data() + 20, len - 20), 0xffff);
}

// ----------------------------------------------------------------------------------------------
// build_dest_unreachable

// A UDP datagram of `udp_payload` bytes (8-byte UDP header + data).
std::vector<uint8_t> udp_datagram(size_t udp_payload, uint8_t ihl_words = 5) {
  std::vector<uint8_t> m(8 + udp_payload);
  store_be16(&m[0], 40000);
  store_be16(&m[2], 9999);
  store_be16(&m[4], static_cast<uint16_t>(m.size()));
  for (size_t i = 8; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i * 7);
  return wrap_ipv4(m, ipproto::kUdp, ihl_words);
}

// Checks the error in `out` (len bytes) against the offending datagram `orig`.
void expect_unreachable(const uint8_t* out, size_t len, const std::vector<uint8_t>& orig,
                        uint8_t code, uint16_t ip_id) {
  const size_t orig_total = load_be16(&orig[2]);
  const size_t orig_ihl = static_cast<size_t>(orig[0] & 0x0f) * 4;
  ASSERT_LE(len, kMaxErrorDatagram);
  ASSERT_GE(len, 28 + std::min(orig_total, orig_ihl + 8));
  std::vector<uint8_t> e(out, out + len);
  auto ip = parse_ipv4(e, kRemote);
  ASSERT_TRUE(ip.ok()) << to_string(ip.drop);
  EXPECT_EQ(oracle_sum(e.data(), 20), 0xffff);
  EXPECT_EQ(ip.view.header_len, 20);
  EXPECT_EQ(ip.view.total_len, len);
  EXPECT_EQ(ip.view.src, kLocal);
  EXPECT_EQ(ip.view.dst, kRemote);
  EXPECT_EQ(ip.view.protocol, ipproto::kIcmp);
  EXPECT_EQ(ip.view.id, ip_id);
  const uint8_t* m = e.data() + 20;
  EXPECT_EQ(m[0], kDestUnreachable);
  EXPECT_EQ(m[1], code);
  EXPECT_EQ(load_be32(m + 4), 0u) << "unused field must be zero";
  EXPECT_EQ(oracle_sum(m, len - 20), 0xffff) << "ICMP checksum";
  const size_t quote = len - 28;
  EXPECT_EQ(quote, std::min(orig_total, kMaxErrorDatagram - 28));
  EXPECT_EQ(std::memcmp(m + 8, orig.data(), quote), 0) << "quoted bytes";
  auto parsed = parse_icmp(ip.view);
  EXPECT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.type, kDestUnreachable);
  EXPECT_EQ(parsed.code, code);
}

TEST(IcmpUnreachable, SmallDatagramIsQuotedWhole) {
  for (size_t n : {0u, 1u, 2u, 100u, 520u}) {
    SCOPED_TRACE("udp payload " + std::to_string(n));
    auto orig = udp_datagram(n);
    const auto view = view_of(orig);
    std::vector<uint8_t> out(1500, 0xee);
    const size_t len = build_dest_unreachable(out.data(), out.size(), kLocal, view,
                                              kCodePortUnreachable, 77);
    EXPECT_EQ(len, 28 + orig.size());
    expect_unreachable(out.data(), len, orig, kCodePortUnreachable, 77);
  }
}

TEST(IcmpUnreachable, LargeDatagramIsCutSoTheErrorIsAtMost576Bytes) {
  for (size_t n : {521u, 522u, 1000u, 1472u, 8000u, 65507u}) {
    SCOPED_TRACE("udp payload " + std::to_string(n));
    auto orig = udp_datagram(n);
    const auto view = view_of(orig);
    std::vector<uint8_t> out(65536);
    const size_t len = build_dest_unreachable(out.data(), out.size(), kLocal, view,
                                              kCodePortUnreachable, 1);
    EXPECT_EQ(len, kMaxErrorDatagram);
    expect_unreachable(out.data(), len, orig, kCodePortUnreachable, 1);
  }
}

TEST(IcmpUnreachable, OriginalOptionsAreQuotedWithTheHeader) {
  for (uint8_t words = 6; words <= 15; ++words) {
    SCOPED_TRACE("ihl " + std::to_string(words));
    auto orig = udp_datagram(1400, words);
    const auto view = view_of(orig);
    std::vector<uint8_t> out(2048);
    const size_t len = build_dest_unreachable(out.data(), out.size(), kLocal, view,
                                              kCodeProtocolUnreachable, 2);
    EXPECT_EQ(len, kMaxErrorDatagram);
    expect_unreachable(out.data(), len, orig, kCodeProtocolUnreachable, 2);
  }
}

TEST(IcmpUnreachable, EveryCodeIsCarried) {
  auto orig = udp_datagram(30);
  const auto view = view_of(orig);
  for (uint8_t code = 0; code < 16; ++code) {
    std::vector<uint8_t> out(600);
    const size_t len = build_dest_unreachable(out.data(), out.size(), kLocal, view, code, 0);
    ASSERT_GT(len, 0u);
    expect_unreachable(out.data(), len, orig, code, 0);
  }
}

TEST(IcmpUnreachable, SmallCapacityCutsTheQuoteButKeepsHeaderPlus8Bytes) {
  auto orig = udp_datagram(1000, 6);  // 24-byte header
  const auto view = view_of(orig);
  const size_t min_cap = 28 + 24 + 8;
  for (size_t cap = min_cap; cap <= 700; cap += 13) {
    // Exact-size heap buffer: ASan reports any write past cap.
    std::unique_ptr<uint8_t[]> out(new uint8_t[cap]);
    const size_t len = build_dest_unreachable(out.get(), cap, kLocal, view, 3, 5);
    ASSERT_EQ(len, std::min(cap, kMaxErrorDatagram)) << "cap " << cap;
    // Check the fields that do not depend on how much was quoted.
    std::vector<uint8_t> e(out.get(), out.get() + len);
    EXPECT_EQ(oracle_sum(e.data(), 20), 0xffff);
    EXPECT_EQ(oracle_sum(e.data() + 20, len - 20), 0xffff);
    EXPECT_EQ(load_be16(&e[2]), len);
    EXPECT_EQ(std::memcmp(e.data() + 28, orig.data(), len - 28), 0);
  }
}

TEST(IcmpUnreachable, CapacityTooSmallReturnsZeroAndWritesNothingPastIt) {
  auto orig = udp_datagram(100);
  const auto view = view_of(orig);
  for (size_t cap = 0; cap < 28 + 20 + 8; ++cap) {
    std::unique_ptr<uint8_t[]> out(new uint8_t[cap == 0 ? 1 : cap]);
    EXPECT_EQ(build_dest_unreachable(out.get(), cap, kLocal, view, 3, 0), 0u) << "cap " << cap;
  }
}

TEST(IcmpUnreachable, DatagramShorterThanHeaderPlus8IsQuotedWhole) {
  // Protocol 253 (experimental) with a 3-byte payload: 23 bytes in all, less than IHL*4 + 8.
  auto orig = wrap_ipv4({1, 2, 3}, 253);
  const auto view = view_of(orig);
  std::unique_ptr<uint8_t[]> out(new uint8_t[28 + 23]);
  const size_t len = build_dest_unreachable(out.get(), 28 + 23, kLocal, view,
                                            kCodeProtocolUnreachable, 0);
  ASSERT_EQ(len, 28u + 23u);
  expect_unreachable(out.get(), len, orig, kCodeProtocolUnreachable, 0);
  EXPECT_EQ(build_dest_unreachable(out.get(), 28 + 22, kLocal, view, 2, 0), 0u);
}

// ----------------------------------------------------------------------------------------------
// RateLimiter (fake time in µs)

constexpr uint64_t kSec = 1000000;

TEST(IcmpRateLimiter, BurstIsAllowedThenRefused) {
  RateLimiter rl(1000, 50);
  const uint64_t t = 5 * kSec;
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(rl.allow(t)) << i;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(rl.allow(t));
}

TEST(IcmpRateLimiter, FirstCallAtTimeZeroWorks) {
  RateLimiter rl(10, 2);
  EXPECT_TRUE(rl.allow(0));
  EXPECT_TRUE(rl.allow(0));
  EXPECT_FALSE(rl.allow(0));
  EXPECT_FALSE(rl.allow(kSec / 10 - 1));
  EXPECT_TRUE(rl.allow(kSec / 10));
}

TEST(IcmpRateLimiter, TokensRefillAtTheRate) {
  RateLimiter rl(1000, 5);  // one token per 1000 µs
  uint64_t t = kSec;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(rl.allow(t));
  ASSERT_FALSE(rl.allow(t));
  EXPECT_FALSE(rl.allow(t + 999));
  EXPECT_TRUE(rl.allow(t + 1000));
  EXPECT_FALSE(rl.allow(t + 1000));
  EXPECT_FALSE(rl.allow(t + 1999));
  EXPECT_TRUE(rl.allow(t + 2000));
  // 3.5 tokens' worth of time: 3 now, the half token is kept for later.
  t += 2000;
  EXPECT_TRUE(rl.allow(t + 3500));
  EXPECT_TRUE(rl.allow(t + 3500));
  EXPECT_TRUE(rl.allow(t + 3500));
  EXPECT_FALSE(rl.allow(t + 3500));
  EXPECT_TRUE(rl.allow(t + 4000));
}

TEST(IcmpRateLimiter, SustainedRateMatchesTheConfiguredRate) {
  struct Case {
    uint32_t rate, burst;
    uint64_t step_us, seconds;
  } cases[] = {
      {1000, 50, 10, 10},  // the default
      {1, 1, 1000, 100},
      {3, 1, 1000, 100},   // 1e6 / 3 is not a whole number of µs
      {7, 4, 997, 60},
      {100, 10, 3, 10},
  };
  for (const auto& c : cases) {
    RateLimiter rl(c.rate, c.burst);
    uint64_t allowed = 0;
    for (uint64_t t = 0; t <= c.seconds * kSec; t += c.step_us) allowed += rl.allow(t);
    const double expect = c.burst + static_cast<double>(c.rate) * c.seconds;
    EXPECT_NEAR(static_cast<double>(allowed), expect, 1.0 + expect * 0.001)
        << "rate " << c.rate << " burst " << c.burst << " step " << c.step_us;
  }
}

// Exact refill with a burst large enough that the bucket never fills while it is drained: the
// count over one second is burst + rate.
void expect_rate_when_asked_every_microsecond(uint32_t rate, uint32_t burst) {
  RateLimiter rl(rate, burst);
  uint64_t allowed = 0;
  for (uint64_t t = 0; t <= kSec; ++t) allowed += rl.allow(t);
  const double expect = static_cast<double>(burst) + rate;
  EXPECT_NEAR(static_cast<double>(allowed), expect, expect * 0.01)
      << "rate " << rate << " burst " << burst;
}

TEST(IcmpRateLimiter, HighRatesThatDivideAMillionAreExact) {
  for (uint32_t rate : {1000u, 250000u, 500000u, 1000000u})
    expect_rate_when_asked_every_microsecond(rate, 100);
}

// Regression: the limiter used to keep the fraction of a token by moving last_us_ forward by
// earned * 1e6 / rate, rounded down; asked every microsecond with tokens being used up, each
// refill gave away up to 1 µs, so 700000/s handed out 1000000/s and 300000/s 333433/s.
TEST(IcmpRateLimiter, HighRatesThatDoNotDivideAMillionAreNotExceeded) {
  for (uint32_t rate : {300000u, 700000u, 999999u})
    expect_rate_when_asked_every_microsecond(rate, 100);
}

TEST(IcmpRateLimiter, BucketOfOneTokenDiscardsTimeWhileFull) {
  // With burst 1 the bucket is full as soon as one token is earned; time spent full earns
  // nothing, so asking every µs at 300000/s gets a token every 4 µs (like any token bucket).
  RateLimiter rl(300000, 1);
  uint64_t allowed = 0;
  for (uint64_t t = 0; t <= kSec; ++t) allowed += rl.allow(t);
  EXPECT_LE(allowed, 300001u);
  EXPECT_GE(allowed, 250000u);
}

TEST(IcmpRateLimiter, RateZeroNeverAllows) {
  RateLimiter rl(0, 50);
  for (uint64_t t : {uint64_t{0}, uint64_t{1}, kSec, 3600 * kSec, ~uint64_t{0}})
    EXPECT_FALSE(rl.allow(t)) << t;
}

TEST(IcmpRateLimiter, LongIdleDoesNotSaveMoreThanTheBurst) {
  for (uint64_t idle : {kSec, 3600 * kSec, 86400 * 365 * kSec}) {
    RateLimiter rl(1000, 20);
    uint64_t t = 10;
    while (rl.allow(t)) {
    }
    t += idle;
    int allowed = 0;
    while (rl.allow(t) && allowed < 1000) ++allowed;
    EXPECT_EQ(allowed, 20) << "idle " << idle;
  }
}

TEST(IcmpRateLimiter, TimeGoingBackwardsEarnsNothing) {
  RateLimiter rl(1000, 2);
  const uint64_t t = 100 * kSec;
  EXPECT_TRUE(rl.allow(t));
  EXPECT_TRUE(rl.allow(t));
  EXPECT_FALSE(rl.allow(t - kSec));
  EXPECT_FALSE(rl.allow(1));
  EXPECT_FALSE(rl.allow(t));
  EXPECT_TRUE(rl.allow(t + 1000));
}

}  // namespace
}  // namespace tuntcp::proto::icmp

namespace tuntcp::proto::icmp {
namespace {

// Found by fuzzing: an all-zero request (identifier, sequence and data 0, checksum 0xf7ff)
// made the RFC 1624 update produce 0x0000, which does not verify; the reply must carry 0xffff.
TEST(IcmpEchoReply, AllZeroRequestGetsAReplyWhoseChecksumVerifies) {
  auto d = wrap_ipv4(echo_request_msg(0, 0, 0, 0), ipproto::kIcmp);
  ASSERT_EQ(load_be16(&d[20 + 2]), 0xf7ff);
  const Ipv4View v = view_of(d);
  const size_t len = make_echo_reply_in_place(d.data(), v, 1);
  EXPECT_EQ(load_be16(&d[20 + 2]), 0xffff);
  EXPECT_EQ(proto::csum::ones_sum(d.data() + 20, len - 20), 0xffff);
}

}  // namespace
}  // namespace tuntcp::proto::icmp
