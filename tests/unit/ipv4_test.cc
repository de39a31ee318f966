// IPv4 (RFC 791, RFC 1122 3.2.1): parse_ipv4 accepts valid datagrams and names the reason for
// every drop; options and link padding; emit_ipv4 round trip; dotted-quad parsing/formatting;
// a mutation fuzzer that runs under ASan to prove the parser never reads past the bytes read.
#include "proto/ipv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "proto/bytes.h"

namespace tuntcp::proto {
namespace {

constexpr uint32_t kLocal = 0xc6120002;   // 198.18.0.2
constexpr uint32_t kRemote = 0xc6120001;  // 198.18.0.1

// RFC 1071 written out independently of proto/checksum so the tests do not trust what they test.
uint16_t oracle_sum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) s += static_cast<uint32_t>(p[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

void fix_header_checksum(std::vector<uint8_t>& d) {
  const size_t ihl = static_cast<size_t>(d[0] & 0x0f) * 4;
  d[10] = d[11] = 0;
  const uint16_t c = static_cast<uint16_t>(~oracle_sum(d.data(), ihl));
  d[10] = static_cast<uint8_t>(c >> 8);
  d[11] = static_cast<uint8_t>(c);
}

struct Spec {
  uint32_t src = kRemote;
  uint32_t dst = kLocal;
  uint8_t protocol = 17;
  uint8_t ttl = 64;
  uint16_t id = 0x1234;
  uint16_t frag = 0x4000;  // DF
  uint8_t ihl_words = 5;
  size_t payload_len = 32;
};

// A datagram with a valid header checksum. Options are NOP (1) bytes then an EOL (0), payload
// bytes are i & 0xff, so tests can check exactly which bytes the view points at.
std::vector<uint8_t> make_datagram(const Spec& s) {
  const size_t ihl = s.ihl_words * 4u;
  std::vector<uint8_t> d(ihl + s.payload_len);
  d[0] = static_cast<uint8_t>(0x40 | s.ihl_words);
  d[1] = 0;
  store_be16(&d[2], static_cast<uint16_t>(d.size()));
  store_be16(&d[4], s.id);
  store_be16(&d[6], s.frag);
  d[8] = s.ttl;
  d[9] = s.protocol;
  store_be32(&d[12], s.src);
  store_be32(&d[16], s.dst);
  for (size_t i = 20; i < ihl; ++i) d[i] = i + 1 == ihl ? 0 : 1;
  for (size_t i = 0; i < s.payload_len; ++i) d[ihl + i] = static_cast<uint8_t>(i);
  fix_header_checksum(d);
  return d;
}

Ipv4Drop drop_of(const std::vector<uint8_t>& d, uint32_t local = kLocal) {
  return parse_ipv4(d, local).drop;
}

// ----------------------------------------------------------------------------------------------
// Accepting

TEST(Ipv4Parse, ValidDatagramIsAcceptedAndFillsTheView) {
  Spec s;
  s.protocol = 6;
  s.ttl = 17;
  s.id = 0xbeef;
  s.payload_len = 100;
  auto d = make_datagram(s);
  auto r = parse_ipv4(d, kLocal);
  ASSERT_TRUE(r.ok()) << to_string(r.drop);
  EXPECT_EQ(r.view.header, d.data());
  EXPECT_EQ(r.view.header_len, 20);
  EXPECT_EQ(r.view.total_len, 120);
  EXPECT_EQ(r.view.protocol, 6);
  EXPECT_EQ(r.view.ttl, 17);
  EXPECT_EQ(r.view.id, 0xbeef);
  EXPECT_EQ(r.view.src, kRemote);
  EXPECT_EQ(r.view.dst, kLocal);
  auto p = r.view.payload();
  EXPECT_EQ(p.data(), d.data() + 20);
  ASSERT_EQ(p.size(), 100u);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i], static_cast<uint8_t>(i));
}

TEST(Ipv4Parse, HeaderOnlyDatagramHasEmptyPayload) {
  Spec s;
  s.payload_len = 0;
  auto d = make_datagram(s);
  auto r = parse_ipv4(d, kLocal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.view.payload().size(), 0u);
}

TEST(Ipv4Parse, DontFragmentFlagAloneIsAccepted) {
  Spec s;
  s.frag = 0x4000;
  EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kNone);
  s.frag = 0;
  EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kNone);
}

TEST(Ipv4Parse, MaximumTotalLengthIsAccepted) {
  Spec s;
  s.payload_len = 65535 - 20;
  auto d = make_datagram(s);
  auto r = parse_ipv4(d, kLocal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.view.total_len, 65535);
  EXPECT_EQ(r.view.payload().size(), 65515u);
}

TEST(Ipv4Parse, OptionsAreSkippedForEveryIhlFrom6To15) {
  for (uint8_t words = 6; words <= 15; ++words) {
    SCOPED_TRACE("ihl=" + std::to_string(words));
    Spec s;
    s.ihl_words = words;
    s.payload_len = 40;
    auto d = make_datagram(s);
    // Random option bytes too: the parser must not interpret them, only skip them.
    std::mt19937 rng(words);
    for (size_t i = 20; i < words * 4u; ++i) d[i] = static_cast<uint8_t>(rng());
    fix_header_checksum(d);
    auto r = parse_ipv4(d, kLocal);
    ASSERT_TRUE(r.ok()) << to_string(r.drop);
    EXPECT_EQ(r.view.header_len, words * 4);
    EXPECT_EQ(r.view.total_len, d.size());
    auto p = r.view.payload();
    ASSERT_EQ(p.size(), 40u);
    EXPECT_EQ(p.data(), d.data() + words * 4);
    for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i], static_cast<uint8_t>(i));
  }
}

TEST(Ipv4Parse, OptionsAreCoveredByTheHeaderChecksum) {
  Spec s;
  s.ihl_words = 8;
  auto d = make_datagram(s);
  d[25] ^= 0x40;  // an option byte, checksum not fixed
  EXPECT_EQ(drop_of(d), Ipv4Drop::kBadChecksum);
}

TEST(Ipv4Parse, TrailingLinkPaddingIsIgnored) {
  for (size_t pad : {1u, 2u, 7u, 26u, 1000u}) {
    Spec s;
    s.payload_len = 10;
    auto d = make_datagram(s);
    d.resize(d.size() + pad, 0xee);
    auto r = parse_ipv4(d, kLocal);
    ASSERT_TRUE(r.ok()) << "pad=" << pad;
    EXPECT_EQ(r.view.total_len, 30);
    EXPECT_EQ(r.view.payload().size(), 10u);
  }
}

TEST(Ipv4Parse, PayloadIsNotCoveredByTheHeaderChecksum) {
  Spec s;
  auto d = make_datagram(s);
  d[30] ^= 0xff;
  EXPECT_EQ(drop_of(d), Ipv4Drop::kNone);
}

// ----------------------------------------------------------------------------------------------
// Dropping, one test per reason, in the order of the checks

TEST(Ipv4Parse, EmptyInputIsTruncated) {
  EXPECT_EQ(parse_ipv4({}, kLocal).drop, Ipv4Drop::kTruncated);
}

TEST(Ipv4Parse, FewerThan20BytesIsTruncated) {
  auto full = make_datagram(Spec{});
  for (size_t n = 1; n < 20; ++n) {
    // An exact-size copy, so ASan catches any read past the end.
    std::vector<uint8_t> d(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(drop_of(d), Ipv4Drop::kTruncated) << "n=" << n;
  }
}

TEST(Ipv4Parse, VersionOtherThan4IsNotIpv4) {
  for (uint8_t v = 0; v < 16; ++v) {
    if (v == 4) continue;
    auto d = make_datagram(Spec{});
    d[0] = static_cast<uint8_t>(v << 4 | 5);
    fix_header_checksum(d);
    EXPECT_EQ(drop_of(d), Ipv4Drop::kNotIpv4) << "version=" << int{v};
  }
}

TEST(Ipv4Parse, Ipv6PacketIsNotIpv4) {
  // A real IPv6 header (40 bytes) + ICMPv6 echo request of 8 bytes.
  std::vector<uint8_t> d(48, 0);
  d[0] = 0x60;
  store_be16(&d[4], 8);
  d[6] = 58;  // next header: ICMPv6
  d[7] = 64;
  d[23] = 1;  // src ::1
  d[39] = 2;  // dst ::2
  d[40] = 128;
  EXPECT_EQ(drop_of(d), Ipv4Drop::kNotIpv4);
}

TEST(Ipv4Parse, IhlBelow5IsBadIhl) {
  for (uint8_t words = 0; words < 5; ++words) {
    auto d = make_datagram(Spec{});
    d[0] = static_cast<uint8_t>(0x40 | words);
    EXPECT_EQ(drop_of(d), Ipv4Drop::kBadIhl) << "ihl=" << int{words};
  }
}

TEST(Ipv4Parse, HeaderLongerThanBytesReadIsBadIhl) {
  // IHL 15 (60 bytes) but only 20..59 bytes read.
  Spec s;
  s.ihl_words = 15;
  s.payload_len = 0;
  auto full = make_datagram(s);
  for (size_t n = 20; n < 60; ++n) {
    std::vector<uint8_t> d(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(drop_of(d), Ipv4Drop::kBadIhl) << "n=" << n;
  }
  EXPECT_EQ(drop_of(full), Ipv4Drop::kNone);
}

TEST(Ipv4Parse, TotalLengthShorterThanHeaderIsDropped) {
  for (uint8_t words : {5, 6, 15}) {
    Spec s;
    s.ihl_words = words;
    auto d = make_datagram(s);
    for (uint16_t total : {uint16_t{0}, uint16_t{1}, uint16_t{19},
                           static_cast<uint16_t>(words * 4 - 1)}) {
      store_be16(&d[2], total);
      fix_header_checksum(d);
      EXPECT_EQ(drop_of(d), Ipv4Drop::kBadTotalLength) << "ihl=" << int{words} << " total=" << total;
    }
  }
}

TEST(Ipv4Parse, TotalLengthEqualToHeaderIsAccepted) {
  Spec s;
  s.ihl_words = 6;
  auto d = make_datagram(s);
  store_be16(&d[2], 24);
  fix_header_checksum(d);
  auto r = parse_ipv4(d, kLocal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.view.payload().size(), 0u);
}

TEST(Ipv4Parse, TotalLengthLongerThanBytesReadIsDropped) {
  auto d = make_datagram(Spec{});  // 52 bytes
  for (uint16_t total : {53, 54, 1500, 65535}) {
    store_be16(&d[2], total);
    fix_header_checksum(d);
    EXPECT_EQ(drop_of(d), Ipv4Drop::kBadTotalLength) << "total=" << total;
  }
}

TEST(Ipv4Parse, BadHeaderChecksumIsDropped) {
  auto good = make_datagram(Spec{});
  // Every single-bit error in the header is caught.
  for (size_t byte = 0; byte < 20; ++byte) {
    if (byte == 0 || byte == 2 || byte == 3) continue;  // would change an earlier check's verdict
    for (int bit = 0; bit < 8; ++bit) {
      auto d = good;
      d[byte] ^= static_cast<uint8_t>(1u << bit);
      EXPECT_EQ(drop_of(d), Ipv4Drop::kBadChecksum) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(Ipv4Parse, ZeroChecksumFieldIsNotSpecialCased) {
  // Unlike UDP, IPv4 has no "checksum not computed" value: 0 must verify like any other.
  auto d = make_datagram(Spec{});
  if (d[10] != 0 || d[11] != 0) {
    d[10] = d[11] = 0;
    EXPECT_EQ(drop_of(d), Ipv4Drop::kBadChecksum);
  }
}

TEST(Ipv4Parse, InvalidSourceAddressesAreDropped) {
  const uint32_t bad[] = {
      0xe0000001,  // 224.0.0.1 multicast
      0xefffffff,  // 239.255.255.255 multicast
      0xe0000000,  // 224.0.0.0
      0xffffffff,  // limited broadcast
      0x7f000001,  // 127.0.0.1
      0x7ffffffe,  // 127.255.255.254
      0x7f000000,  // 127.0.0.0
      0x00000000,  // 0.0.0.0
  };
  for (uint32_t src : bad) {
    Spec s;
    s.src = src;
    EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kBadSource) << format_ipv4_addr(src);
  }
}

TEST(Ipv4Parse, SourcesNextToTheInvalidRangesAreAccepted) {
  const uint32_t good[] = {
      0x00000001,  // 0.0.0.1 (only 0 itself is "unspecified" here)
      0x7effffff,  // 126.255.255.255
      0x80000000,  // 128.0.0.0
      0xdfffffff,  // 223.255.255.255
      0xf0000000,  // 240.0.0.0
      0xfffffffe,  // 255.255.255.254
  };
  for (uint32_t src : good) {
    Spec s;
    s.src = src;
    EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kNone) << format_ipv4_addr(src);
  }
}

TEST(Ipv4Parse, DestinationOtherThanOursIsNotForUs) {
  for (uint32_t dst : {kLocal + 1, kLocal - 1, kRemote, 0xffffffffu, 0xe0000001u, 0u,
                       kLocal ^ 0x80000000u}) {
    Spec s;
    s.dst = dst;
    EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kNotForUs) << format_ipv4_addr(dst);
  }
  // The same datagram is ours when our address is its destination.
  Spec s;
  s.dst = 0x0a000005;
  EXPECT_EQ(drop_of(make_datagram(s), 0x0a000005), Ipv4Drop::kNone);
}

TEST(Ipv4Parse, MoreFragmentsFlagIsAFragment) {
  Spec s;
  s.frag = 0x2000;
  EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kFragment);
  s.frag = 0x6000;  // DF|MF (contradictory, still a fragment)
  EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kFragment);
}

TEST(Ipv4Parse, NonzeroFragmentOffsetIsAFragment) {
  for (uint16_t off : {uint16_t{1}, uint16_t{2}, uint16_t{185}, uint16_t{0x1000},
                       uint16_t{0x1fff}}) {
    Spec s;
    s.frag = off;  // last fragment: MF clear, offset != 0
    EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kFragment) << "offset=" << off;
    s.frag = static_cast<uint16_t>(0x2000 | off);  // middle fragment
    EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kFragment) << "offset=" << off;
  }
}

TEST(Ipv4Parse, ChecksAreMadeInTheDocumentedOrder) {
  // A datagram that is wrong in every way after the version reports the earliest check.
  Spec s;
  s.src = 0x7f000001;
  s.dst = 0x01020304;
  s.frag = 0x2001;
  auto d = make_datagram(s);
  EXPECT_EQ(drop_of(d), Ipv4Drop::kBadSource);  // source before destination before fragment
  s.src = kRemote;
  EXPECT_EQ(drop_of(make_datagram(s)), Ipv4Drop::kNotForUs);
  d[11] ^= 1;
  EXPECT_EQ(drop_of(d), Ipv4Drop::kBadChecksum);
  store_be16(&d[2], 1000);
  EXPECT_EQ(drop_of(d), Ipv4Drop::kBadTotalLength);
  d[0] = 0x4f;
  EXPECT_EQ(drop_of(d), Ipv4Drop::kBadIhl);
  d[0] = 0x5f;
  EXPECT_EQ(drop_of(d), Ipv4Drop::kNotIpv4);
}

TEST(Ipv4Parse, RejectionLeavesAnEmptyView) {
  auto d = make_datagram(Spec{});
  d[11] ^= 1;
  auto r = parse_ipv4(d, kLocal);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.view.header, nullptr);
  EXPECT_EQ(r.view.header_len, 0);
  EXPECT_EQ(r.view.total_len, 0);
}

TEST(Ipv4Parse, EveryDropReasonHasADistinctName) {
  std::vector<std::string> names;
  for (uint8_t i = 0; i < static_cast<uint8_t>(Ipv4Drop::kCount); ++i) {
    std::string n(to_string(static_cast<Ipv4Drop>(i)));
    EXPECT_NE(n, "?");
    for (const auto& other : names) EXPECT_NE(n, other);
    names.push_back(n);
  }
}

// ----------------------------------------------------------------------------------------------
// emit_ipv4

TEST(Ipv4Emit, EmittedHeaderRoundTripsThroughParse) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    Ipv4Repr repr;
    repr.src = 0x0a000000u | (rng() & 0xffffff);  // 10/8: always a valid source
    repr.dst = kLocal;
    repr.protocol = static_cast<uint8_t>(rng());
    repr.ttl = static_cast<uint8_t>(rng());
    repr.id = static_cast<uint16_t>(rng());
    repr.payload_len = static_cast<uint16_t>(rng() % 1481);
    repr.dont_fragment = rng() & 1;
    std::vector<uint8_t> d(20 + repr.payload_len, 0xa5);
    emit_ipv4(repr, d.data());
    EXPECT_EQ(oracle_sum(d.data(), 20), 0xffff);
    EXPECT_EQ(d[0], 0x45);
    EXPECT_EQ(load_be16(&d[6]), repr.dont_fragment ? 0x4000 : 0);
    auto r = parse_ipv4(d, kLocal);
    ASSERT_TRUE(r.ok()) << to_string(r.drop);
    EXPECT_EQ(r.view.header_len, 20);
    EXPECT_EQ(r.view.total_len, 20 + repr.payload_len);
    EXPECT_EQ(r.view.src, repr.src);
    EXPECT_EQ(r.view.dst, repr.dst);
    EXPECT_EQ(r.view.protocol, repr.protocol);
    EXPECT_EQ(r.view.ttl, repr.ttl);
    EXPECT_EQ(r.view.id, repr.id);
    EXPECT_EQ(r.view.payload().size(), repr.payload_len);
  }
}

TEST(Ipv4Emit, WritesExactly20BytesAndOverwritesAStaleChecksum) {
  std::array<uint8_t, 24> buf;
  buf.fill(0xff);  // garbage, including in the checksum field
  Ipv4Repr repr;
  repr.src = kLocal;
  repr.dst = kRemote;
  repr.protocol = 1;
  emit_ipv4(repr, buf.data());
  EXPECT_EQ(oracle_sum(buf.data(), 20), 0xffff);
  EXPECT_EQ(buf[1], 0);  // TOS
  for (size_t i = 20; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xff) << i;
}

// ----------------------------------------------------------------------------------------------
// Dotted-quad addresses

TEST(Ipv4Addr, ValidAddressesParse) {
  struct Case {
    const char* text;
    uint32_t addr;
  } cases[] = {
      {"0.0.0.0", 0},
      {"255.255.255.255", 0xffffffff},
      {"198.18.0.2", 0xc6120002},
      {"1.2.3.4", 0x01020304},
      {"10.0.0.1", 0x0a000001},
      {"127.0.0.1", 0x7f000001},
      {"9.99.199.200", 0x0963c7c8},
  };
  for (const auto& c : cases) {
    uint32_t a = 0xdeadbeef;
    EXPECT_TRUE(parse_ipv4_addr(c.text, a)) << c.text;
    EXPECT_EQ(a, c.addr) << c.text;
  }
}

TEST(Ipv4Addr, MalformedAddressesAreRejectedAndLeaveTheOutputAlone) {
  const char* bad[] = {
      "1.2.3", "256.1.1.1", "1.2.3.4.5", "01234.1.1.1", "", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4",
      "1.2.3.4x", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.", "1.2.3.256", "1.2.3.999",
      "1.2.3.1000", "-1.2.3.4", "+1.2.3.4", "1.2.3.-4", "1.2.3.4/24", "0x1.2.3.4", "1,2,3,4",
      "1.2.3.4\n", ".", "...", "4294967295", "1.2.65536", "1.2.3.04294967300",
  };
  for (const char* text : bad) {
    uint32_t a = 0xdeadbeef;
    EXPECT_FALSE(parse_ipv4_addr(text, a)) << '"' << text << '"';
    EXPECT_EQ(a, 0xdeadbeefu) << '"' << text << '"';
  }
}

TEST(Ipv4Addr, ParseRespectsTheViewLengthNotTheNulTerminator) {
  const std::string s = "10.1.2.34567";
  uint32_t a = 0;
  EXPECT_TRUE(parse_ipv4_addr(std::string_view(s).substr(0, 9), a));  // "10.1.2.34"
  EXPECT_EQ(a, 0x0a010222u);
  EXPECT_FALSE(parse_ipv4_addr(std::string_view(s).substr(0, 7), a));  // "10.1.2."
}

TEST(Ipv4Addr, FormatThenParseRoundTrips) {
  std::mt19937 rng(11);
  for (int i = 0; i < 10000; ++i) {
    const uint32_t addr = i < 4 ? std::array<uint32_t, 4>{0, 0xffffffff, 0x01000000, 0xff}[i]
                                : static_cast<uint32_t>(rng());
    const std::string text = format_ipv4_addr(addr);
    uint32_t back = ~addr;
    ASSERT_TRUE(parse_ipv4_addr(text, back)) << text;
    EXPECT_EQ(back, addr) << text;
  }
  EXPECT_EQ(format_ipv4_addr(0xc6120002), "198.18.0.2");
  EXPECT_EQ(format_ipv4_addr(0), "0.0.0.0");
  EXPECT_EQ(format_ipv4_addr(0xffffffff), "255.255.255.255");
}

TEST(Ipv4Addr, AddressClassification) {
  EXPECT_TRUE(is_multicast(0xe0000000));
  EXPECT_TRUE(is_multicast(0xefffffff));
  EXPECT_FALSE(is_multicast(0xdfffffff));
  EXPECT_FALSE(is_multicast(0xf0000000));
  EXPECT_TRUE(is_limited_broadcast(0xffffffff));
  EXPECT_FALSE(is_limited_broadcast(0xfffffffe));
  EXPECT_TRUE(is_loopback(0x7f000001));
  EXPECT_FALSE(is_loopback(0x80000000));
  EXPECT_TRUE(is_unspecified(0));
  EXPECT_FALSE(is_unspecified(1));
}

// ----------------------------------------------------------------------------------------------
// Mutation fuzzing: never out of bounds, only checksum-valid headers accepted

TEST(Ipv4Fuzz, MutatedHeadersNeverReadOutOfBoundsAndOnlyValidOnesAreAccepted) {
  std::mt19937_64 rng(0x1234567);
  std::array<size_t, static_cast<size_t>(Ipv4Drop::kCount)> seen{};
  constexpr int kIterations = 60000;
  for (int it = 0; it < kIterations; ++it) {
    Spec s;
    s.ihl_words = static_cast<uint8_t>(5 + rng() % 11);
    s.payload_len = rng() % 64;
    s.frag = (rng() % 4 == 0) ? static_cast<uint16_t>(rng()) : 0x4000;
    auto d = make_datagram(s);
    // 1..6 random mutations of the header bytes (and sometimes the first payload bytes).
    const int mutations = 1 + static_cast<int>(rng() % 6);
    for (int m = 0; m < mutations; ++m) {
      const size_t at = rng() % std::min<size_t>(d.size(), 64);
      switch (rng() % 3) {
        case 0: d[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: d[at] = static_cast<uint8_t>(rng()); break;
        case 2: d[at] = (rng() & 1) ? 0 : 0xff; break;
      }
    }
    // Half the time make the checksum right again so the later checks are reached too.
    if (rng() % 2 && d.size() >= 20) {
      const size_t ihl = static_cast<size_t>(d[0] & 0x0f) * 4;
      if (ihl >= 20 && ihl <= d.size()) fix_header_checksum(d);
    }
    // Read a random prefix, or the whole thing, or a few bytes of padding more.
    size_t n = d.size();
    switch (rng() % 4) {
      case 0: n = rng() % (d.size() + 1); break;
      case 1: d.resize(d.size() + rng() % 8, 0); n = d.size(); break;
      default: break;
    }
    // An exact-size heap copy: ASan reports any read past n.
    std::unique_ptr<uint8_t[]> exact(new uint8_t[n == 0 ? 1 : n]);
    if (n) std::memcpy(exact.get(), d.data(), n);
    auto r = parse_ipv4({exact.get(), n}, kLocal);
    ++seen[static_cast<size_t>(r.drop)];
    if (!r.ok()) continue;
    // Accepted: it must really be a valid datagram for us.
    const uint8_t* h = exact.get();
    ASSERT_GE(n, 20u);
    ASSERT_EQ(h[0] >> 4, 4);
    const size_t ihl = static_cast<size_t>(h[0] & 0x0f) * 4;
    ASSERT_GE(ihl, 20u);
    ASSERT_LE(ihl, n);
    ASSERT_EQ(oracle_sum(h, ihl), 0xffff) << "accepted a header whose checksum does not verify";
    ASSERT_EQ(r.view.header, h);
    ASSERT_EQ(r.view.header_len, ihl);
    ASSERT_EQ(r.view.total_len, load_be16(h + 2));
    ASSERT_GE(r.view.total_len, ihl);
    ASSERT_LE(r.view.total_len, n);
    ASSERT_EQ(r.view.dst, kLocal);
    ASSERT_EQ(load_be16(h + 6) & 0x3fff, 0);
    ASSERT_FALSE(is_multicast(r.view.src) || is_loopback(r.view.src) || r.view.src == 0 ||
                 r.view.src == 0xffffffff);
    // Touch every payload byte: ASan checks that the span is inside the bytes read.
    unsigned sum = 0;
    for (uint8_t b : r.view.payload()) sum += b;
    (void)sum;
  }
  // The mutations reached every verdict, so every check was exercised.
  for (size_t i = 0; i < seen.size(); ++i)
    EXPECT_GT(seen[i], 0u) << "never saw " << to_string(static_cast<Ipv4Drop>(i));
}

TEST(Ipv4Fuzz, RandomBytesOfEveryLengthAreHandled) {
  std::mt19937_64 rng(99);
  for (size_t n = 0; n <= 80; ++n) {
    for (int k = 0; k < 200; ++k) {
      std::unique_ptr<uint8_t[]> exact(new uint8_t[n == 0 ? 1 : n]);
      for (size_t i = 0; i < n; ++i) exact[i] = static_cast<uint8_t>(rng());
      if (n > 0 && k % 2) exact[0] = static_cast<uint8_t>(0x40 | (exact[0] & 0x0f));
      auto r = parse_ipv4({exact.get(), n}, kLocal);
      if (r.ok()) {
        EXPECT_EQ(oracle_sum(exact.get(), r.view.header_len), 0xffff);
        EXPECT_LE(r.view.total_len, n);
      }
    }
  }
}

}  // namespace
}  // namespace tuntcp::proto
