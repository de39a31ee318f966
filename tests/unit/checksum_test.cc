// RFC 1071 Internet checksum: every variant against the byte-wise reference, known vectors,
// seeding, dispatch, the IPv4 pseudo-header and RFC 1624 incremental updates.
#include "proto/checksum.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "proto/bytes.h"

namespace tuntcp::proto::csum {
namespace {

// Every supported variant other than the reference (the oracle itself).
std::vector<const Variant*> fast_variants() {
  std::vector<const Variant*> out;
  for (const Variant& v : variants()) {
    if (v.supported && std::strcmp(v.name, "reference") != 0) out.push_back(&v);
  }
  return out;
}

// Random bytes; at(align) points `align` bytes past a 64-byte boundary and has at least `size`
// bytes after it for any align < 64.
class AlignedRandomBuffer {
 public:
  AlignedRandomBuffer(size_t size, uint64_t rng_seed) : storage_(size + 128) {
    std::mt19937_64 rng(rng_seed);
    for (auto& b : storage_) b = static_cast<uint8_t>(rng());
    auto addr = reinterpret_cast<uintptr_t>(storage_.data());
    offset_ = (64 - addr % 64) % 64;
  }
  uint8_t* at(size_t align) { return storage_.data() + offset_ + align; }

 private:
  std::vector<uint8_t> storage_;
  size_t offset_ = 0;
};

// Restores the dispatched variant when a test that forces one ends.
class VariantRestorer {
 public:
  VariantRestorer() : name_(active_variant().name) {}
  ~VariantRestorer() { select_variant(name_.c_str()); }
  VariantRestorer(const VariantRestorer&) = delete;
  VariantRestorer& operator=(const VariantRestorer&) = delete;

 private:
  std::string name_;
};

// Compares every fast variant with the reference on one input; reports at most a few failures
// per test so that one bug does not print thousands of lines.
class Checker {
 public:
  void check(const uint8_t* p, size_t len, uint32_t seed, size_t align) {
    const uint16_t want = ones_sum_reference(p, len, seed);
    for (const Variant* v : variants_) {
      const uint16_t got = v->fn(p, len, seed);
      if (got != want && ++failures_ <= 10) {
        ADD_FAILURE() << v->name << ": len=" << len << " align=" << align << " seed=0x" << std::hex
                      << seed << " got 0x" << got << " want 0x" << want;
      }
    }
  }

 private:
  std::vector<const Variant*> variants_ = fast_variants();
  int failures_ = 0;
};

TEST(ChecksumVariants, ReferenceAndScalar64AreAlwaysSupportedAndNamesAreUnique) {
  auto vs = variants();
  ASSERT_GE(vs.size(), 2u);
  EXPECT_STREQ(vs[0].name, "reference");
  EXPECT_STREQ(vs[1].name, "scalar64");
  EXPECT_TRUE(vs[0].supported);
  EXPECT_TRUE(vs[1].supported);
  for (size_t i = 0; i < vs.size(); ++i) {
    EXPECT_NE(vs[i].fn, nullptr) << vs[i].name;
    for (size_t j = i + 1; j < vs.size(); ++j) EXPECT_STRNE(vs[i].name, vs[j].name);
  }
}

#if defined(__x86_64__)
TEST(ChecksumVariants, X86VariantsAreCompiledInAndSupportFollowsTheCpu) {
  __builtin_cpu_init();
  auto find = [](const char* name) -> const Variant* {
    for (const Variant& v : variants()) {
      if (std::strcmp(v.name, name) == 0) return &v;
    }
    return nullptr;
  };
  ASSERT_NE(find("sse2"), nullptr);
  ASSERT_NE(find("avx2"), nullptr);
  ASSERT_NE(find("avx512"), nullptr);
  EXPECT_EQ(find("sse2")->supported, __builtin_cpu_supports("sse2") != 0);
  EXPECT_EQ(find("avx2")->supported, __builtin_cpu_supports("avx2") != 0);
  EXPECT_EQ(find("avx512")->supported,
            __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx512bw") != 0);
}
#endif

TEST(ChecksumVariants, DefaultDispatchIsTheLastSupportedVariant) {
  const Variant* best = nullptr;
  for (const Variant& v : variants()) {
    if (v.supported) best = &v;
  }
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(&active_variant(), best)
      << "active " << active_variant().name << ", best " << best->name;
}

TEST(ChecksumVariants, SelectVariantRejectsUnknownNames) {
  VariantRestorer restore;
  const Variant& before = active_variant();
  EXPECT_FALSE(select_variant("avx1024"));
  EXPECT_FALSE(select_variant(""));
  EXPECT_FALSE(select_variant("AVX2"));
  EXPECT_FALSE(select_variant(nullptr));
  EXPECT_EQ(&active_variant(), &before);
}

TEST(ChecksumVariants, SelectVariantRejectsUnsupportedVariants) {
  VariantRestorer restore;
  const Variant& before = active_variant();
  for (const Variant& v : variants()) {
    if (!v.supported) {
      EXPECT_FALSE(select_variant(v.name)) << v.name;
      EXPECT_EQ(&active_variant(), &before);
    }
  }
}

TEST(ChecksumVariants, SelectVariantSwitchesWhatOnesSumCalls) {
  VariantRestorer restore;
  AlignedRandomBuffer buf(1500, 7);
  const uint16_t want = ones_sum_reference(buf.at(1), 1499, 0x1234);
  for (const Variant& v : variants()) {
    if (!v.supported) continue;
    ASSERT_TRUE(select_variant(v.name)) << v.name;
    EXPECT_STREQ(active_variant().name, v.name);
    EXPECT_EQ(ones_sum(buf.at(1), 1499, 0x1234), want) << v.name;
    EXPECT_EQ(checksum(buf.at(1), 1499, 0x1234), static_cast<uint16_t>(~want)) << v.name;
  }
}

// ---------------------------------------------------------------------------------------------
// Every variant equals the reference.

TEST(ChecksumEquivalence, EveryVariantMatchesReferenceForEveryLengthUpTo9000AtAlignments0To7) {
  constexpr size_t kMaxLen = 9000;
  AlignedRandomBuffer buf(kMaxLen, 1);
  std::mt19937 rng(2);
  Checker checker;
  for (size_t align = 0; align < 8; ++align) {
    for (size_t len = 0; len <= kMaxLen; ++len) {
      const uint32_t seed = len % 4 == 0 ? 0 : static_cast<uint32_t>(rng());
      checker.check(buf.at(align), len, seed, align);
    }
  }
}

TEST(ChecksumEquivalence, EveryVariantMatchesReferenceAtEveryAlignment0To63ForSampledLengths) {
  constexpr size_t kMaxLen = 9000;
  AlignedRandomBuffer buf(kMaxLen, 3);
  std::vector<size_t> lengths;
  for (size_t len = 0; len <= 300; ++len) lengths.push_back(len);
  for (size_t len = 301; len <= kMaxLen; len += 97) lengths.push_back(len);
  for (size_t len :
       {511, 512, 513, 1023, 1024, 1025, 1499, 1500, 1501, 4095, 4096, 4097, 8999, 9000}) {
    lengths.push_back(len);
  }
  std::mt19937 rng(4);
  Checker checker;
  for (size_t len : lengths) {
    for (size_t align = 0; align < 64; ++align) {
      checker.check(buf.at(align), len, static_cast<uint32_t>(rng()), align);
    }
  }
}

TEST(ChecksumEquivalence, EveryVariantMatchesReferenceForRandomLengthAlignmentAndSeed) {
  constexpr size_t kMaxLen = 65536;
  AlignedRandomBuffer buf(kMaxLen, 5);
  std::mt19937_64 rng(6);
  Checker checker;
  for (int i = 0; i < 1000; ++i) {
    const size_t len = rng() % (kMaxLen + 1);
    const size_t align = rng() % 64;
    uint32_t seed = static_cast<uint32_t>(rng());
    if (i % 8 == 0) seed = 0;
    if (i % 8 == 1) seed = 0xffff;
    if (i % 8 == 2) seed = 0xffffffff;
    checker.check(buf.at(align), len, seed, align);
  }
}

// Exact-size heap allocations, so AddressSanitizer reports any read past the end or before the
// start (the AVX-512 tail is a masked load, which may touch only the bytes it keeps).
TEST(ChecksumEquivalence, VariantsReadOnlyTheBytesTheyAreGiven) {
  std::mt19937 rng(8);
  Checker checker;
  for (size_t len = 0; len <= 600; ++len) {
    std::vector<uint8_t> exact(len);
    for (auto& b : exact) b = static_cast<uint8_t>(rng());
    checker.check(exact.data(), len, 0, 0);
  }
}

// Carry stress: all-0xFF words make every lane grow as fast as it can (and all-zero ones as
// slowly), over lengths that cross the vector variants' internal block boundaries.
TEST(ChecksumEquivalence, EveryVariantMatchesReferenceOnExtremeDataAtLargeLengths) {
  constexpr size_t kBlockSse2 = 16383 * 64, kBlockAvx2 = 16383 * 128, kBlockAvx512 = 16383 * 256;
  const std::vector<size_t> lengths = {65535,
                                       65536,
                                       65537,
                                       kBlockSse2 - 1,
                                       kBlockSse2,
                                       kBlockSse2 + 1,
                                       kBlockSse2 + 64,
                                       kBlockAvx2,
                                       kBlockAvx2 + 129,
                                       kBlockAvx512 - 1,
                                       kBlockAvx512,
                                       kBlockAvx512 + 1,
                                       kBlockAvx512 + 255,
                                       2 * kBlockAvx512 + 1001};
  const size_t max_len = 2 * kBlockAvx512 + 1001;
  std::vector<uint8_t> buf(max_len + 1);
  const std::array<std::array<uint8_t, 2>, 4> patterns = {
      {{0xff, 0xff}, {0x00, 0x00}, {0x00, 0x80}, {0xff, 0x7f}}};
  Checker checker;
  for (const auto& pat : patterns) {
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = pat[i % 2];
    for (size_t len : lengths) {
      checker.check(buf.data(), len, 0, 0);
      checker.check(buf.data() + 1, len, 0xffff, 1);
    }
  }
}

TEST(ChecksumEquivalence, AllOnesDataSumsToNegativeZeroAndAllZeroDataToZero) {
  std::vector<uint8_t> ones(1 << 20, 0xff), zeros(1 << 20, 0x00);
  for (const Variant& v : variants()) {
    if (!v.supported) continue;
    for (size_t len : {size_t{2}, size_t{64}, size_t{1500}, size_t{65536}, size_t{1} << 20}) {
      EXPECT_EQ(v.fn(ones.data(), len, 0), 0xffff) << v.name << " len=" << len;
      EXPECT_EQ(v.fn(zeros.data(), len, 0), 0x0000) << v.name << " len=" << len;
      EXPECT_EQ(v.fn(ones.data(), len - 1, 0), 0xff00) << v.name << " len=" << len - 1;
    }
    EXPECT_EQ(v.fn(zeros.data(), 0, 0), 0x0000) << v.name;
    EXPECT_EQ(v.fn(nullptr, 0, 0x1234), 0x1234) << v.name;
  }
}

// ---------------------------------------------------------------------------------------------
// Known vectors.

TEST(ChecksumKnownVectors, Rfc1071ExampleBytesSumTo0xDDF2) {
  // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 -> sum 0xddf2 (in either byte order: swapped
  // sum 0xf2dd for the swapped words).
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  for (const Variant& v : variants()) {
    if (!v.supported) continue;
    EXPECT_EQ(v.fn(data, sizeof data, 0), 0xddf2) << v.name;
  }
  EXPECT_EQ(ones_sum(data, sizeof data), 0xddf2);
  EXPECT_EQ(checksum(data, sizeof data), 0x220d);
}

TEST(ChecksumKnownVectors, OddLengthPadsTheLastByteOnTheRight) {
  const uint8_t data[] = {0x12, 0x34, 0x56};  // 0x1234 + 0x5600
  for (const Variant& v : variants()) {
    if (!v.supported) continue;
    EXPECT_EQ(v.fn(data, 3, 0), 0x6834) << v.name;
    EXPECT_EQ(v.fn(data, 1, 0), 0x1200) << v.name;
  }
}

// A captured IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199, checksum 0xb861).
constexpr std::array<uint8_t, 20> kIpv4Header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                                                 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                                                 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

TEST(ChecksumKnownVectors, ValidIpv4HeaderSumsTo0xFFFF) {
  for (const Variant& v : variants()) {
    if (!v.supported) continue;
    EXPECT_EQ(v.fn(kIpv4Header.data(), kIpv4Header.size(), 0), 0xffff) << v.name;
  }
  EXPECT_EQ(ones_sum(kIpv4Header.data(), kIpv4Header.size()), 0xffff);
}

TEST(ChecksumKnownVectors, ChecksumOfIpv4HeaderWithZeroedFieldIsTheStoredValue) {
  auto hdr = kIpv4Header;
  store_be16(&hdr[10], 0);
  const uint16_t c = checksum(hdr.data(), hdr.size());
  EXPECT_EQ(c, 0xb861);
  store_be16(&hdr[10], c);
  EXPECT_EQ(hdr, kIpv4Header);
  EXPECT_EQ(ones_sum(hdr.data(), hdr.size()), 0xffff);
}

// ---------------------------------------------------------------------------------------------
// Seeding.

TEST(ChecksumSeed, SummingEvenLengthPiecesInTurnEqualsSummingTheWhole) {
  AlignedRandomBuffer buf(9000, 9);
  std::mt19937 rng(10);
  for (const Variant& v : variants()) {
    if (!v.supported) continue;
    for (int i = 0; i < 300; ++i) {
      const size_t len = rng() % 9000;
      const size_t split = (rng() % (len + 1)) & ~size_t{1};  // first piece even-length
      const uint8_t* p = buf.at(rng() % 64);
      const uint32_t seed = i % 3 == 0 ? 0 : static_cast<uint32_t>(rng());
      const uint16_t whole = v.fn(p, len, seed);
      const uint16_t first = v.fn(p, split, seed);
      EXPECT_EQ(v.fn(p + split, len - split, first), whole)
          << v.name << " len=" << len << " split=" << split;
    }
  }
}

TEST(ChecksumSeed, ThreePiecesChainThroughTheDispatchedSum) {
  AlignedRandomBuffer buf(4000, 11);
  const uint8_t* p = buf.at(3);
  const uint16_t a = ones_sum(p, 1000, 0xabcd);
  const uint16_t b = ones_sum(p + 1000, 2000, a);
  EXPECT_EQ(ones_sum(p + 3000, 999, b), ones_sum_reference(p, 3999, 0xabcd));
}

TEST(ChecksumSeed, SeedIsAddedWithEndAroundCarry) {
  const uint8_t data[] = {0xff, 0xff};
  for (const Variant& v : variants()) {
    if (!v.supported) continue;
    EXPECT_EQ(v.fn(data, 0, 0xffff), 0xffff) << v.name;
    EXPECT_EQ(v.fn(data, 2, 0x0001), 0x0001) << v.name;      // 0xffff + 1 -> 0x0001
    EXPECT_EQ(v.fn(data, 2, 0xffffffff), 0xffff) << v.name;  // a 32-bit seed folds too
    EXPECT_EQ(v.fn(data, 0, 0x00010000), 0x0001) << v.name;
  }
}

// ---------------------------------------------------------------------------------------------
// IPv4 pseudo-header.

TEST(ChecksumPseudoHeader, EqualsTheSumOfTheTwelvePseudoHeaderBytes) {
  std::mt19937 rng(12);
  for (int i = 0; i < 2000; ++i) {
    const uint32_t src = static_cast<uint32_t>(rng());
    const uint32_t dst = i == 0 ? 0xffffffff : static_cast<uint32_t>(rng());
    const uint8_t proto = i % 2 == 0 ? 6 : 17;
    const uint16_t length = i == 0 ? 0xffff : static_cast<uint16_t>(rng());
    uint8_t ph[12];
    store_be32(ph, src);
    store_be32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    store_be16(ph + 10, length);
    EXPECT_EQ(pseudo_header_sum_v4(src, dst, proto, length), ones_sum_reference(ph, 12));
  }
}

TEST(ChecksumPseudoHeader, UdpDatagramChecksumVerifiesWithPseudoHeaderSeed) {
  // 10.0.0.1:5000 -> 10.0.0.2:53, payload "hello".
  uint8_t udp[8 + 5] = {0x13, 0x88, 0x00, 0x35, 0x00, 13, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'};
  const uint32_t seed = pseudo_header_sum_v4(0x0a000001, 0x0a000002, 17, sizeof udp);
  const uint16_t c = checksum(udp, sizeof udp, seed);
  // Full reference over pseudo-header + datagram.
  uint8_t whole[12 + sizeof udp];
  store_be32(whole, 0x0a000001);
  store_be32(whole + 4, 0x0a000002);
  whole[8] = 0;
  whole[9] = 17;
  store_be16(whole + 10, sizeof udp);
  std::memcpy(whole + 12, udp, sizeof udp);
  EXPECT_EQ(c, static_cast<uint16_t>(~ones_sum_reference(whole, sizeof whole)));
  store_be16(udp + 6, c);
  EXPECT_EQ(ones_sum(udp, sizeof udp, seed), 0xffff);
}

// ---------------------------------------------------------------------------------------------
// RFC 1624 incremental update.

uint16_t recompute(std::vector<uint8_t> data, size_t csum_off) {
  store_be16(&data[csum_off], 0);
  return checksum(data.data(), data.size());
}

TEST(ChecksumIncremental, Update16EqualsFullRecomputeForAnyChangedField) {
  std::mt19937 rng(13);
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> hdr(20);
    for (auto& b : hdr) b = static_cast<uint8_t>(rng());
    hdr[0] = 0x45;  // a real header is never all zero (see Update16ResultForAllZeroData)
    const size_t csum_off = 10;
    store_be16(&hdr[csum_off], recompute(hdr, csum_off));
    ASSERT_EQ(ones_sum_reference(hdr.data(), hdr.size()), 0xffff);
    size_t field = 2 * (rng() % 10);
    if (field == csum_off) field = 8;
    const uint16_t old_word = load_be16(&hdr[field]);
    uint16_t new_word = static_cast<uint16_t>(rng());
    if (i % 10 == 0) new_word = 0;
    if (i % 10 == 1) new_word = 0xffff;
    if (i % 10 == 2) new_word = old_word;
    store_be16(&hdr[field], new_word);
    const uint16_t updated = update16(load_be16(&hdr[csum_off]), old_word, new_word);
    EXPECT_EQ(updated, recompute(hdr, csum_off)) << "field=" << field;
  }
}

TEST(ChecksumIncremental, Update16GivesZeroNotNegativeZeroInTheRfc1624Section3Example) {
  // RFC 1624 section 3: the rest of the header sums to 0xCD7A, m = 0x5555 changes to 0x3285.
  // HC = ~(0xCD7A + 0x5555) = 0xDD2F; recomputing gives ~(0xCD7A + 0x3285) = ~0xFFFF = 0x0000;
  // eqn. 2 (HC - ~m - m') would wrongly give 0xFFFF, eqn. 3 gives 0x0000.
  EXPECT_EQ(update16(0xdd2f, 0x5555, 0x3285), 0x0000);
  // And back: from a checksum of 0x0000 (sum 0xFFFF) to the original.
  EXPECT_EQ(update16(0x0000, 0x3285, 0x5555), 0xdd2f);
}

TEST(ChecksumIncremental, Update16EqualsRecomputeForEveryNewValueIncludingTheCornerSums) {
  // rest: the sum of the other covered words (non-zero: real headers are never all zero),
  // including 0xFFFF (negative zero) and values that make the new sum 0xFFFF or wrap.
  for (uint32_t rest : {0x0001u, 0xcd7au, 0x8000u, 0xfffeu, 0xffffu}) {
    for (uint32_t m : {0x0000u, 0x0001u, 0x5555u, 0xffffu}) {
      const uint16_t hc = static_cast<uint16_t>(~fold(rest + m));
      for (uint32_t m2 = 0; m2 <= 0xffff; ++m2) {
        const uint16_t want = static_cast<uint16_t>(~fold(rest + m2));
        const uint16_t got = update16(hc, static_cast<uint16_t>(m), static_cast<uint16_t>(m2));
        if (got != want) {
          ADD_FAILURE() << std::hex << "rest=0x" << rest << " m=0x" << m << " m'=0x" << m2
                        << " got 0x" << got << " want 0x" << want;
          return;
        }
      }
    }
  }
}

// Documents the one case where eqn. 3 and a recompute differ in representation: data that is
// all zero after the change has recomputed checksum ~0x0000 = 0xFFFF, while eqn. 3 yields
// 0x0000 (both are zero in one's complement). It cannot happen for IPv4 (version field) or TCP /
// UDP (the pseudo-header carries the protocol number).
TEST(ChecksumIncremental, Update16ResultForAllZeroDataIsPositiveZero) {
  std::vector<uint8_t> data(8, 0);
  store_be16(&data[2], 0x1234);
  const uint16_t hc = checksum(data.data(), data.size());
  EXPECT_EQ(hc, static_cast<uint16_t>(~0x1234));
  EXPECT_EQ(update16(hc, 0x1234, 0x0000), 0x0000);
  EXPECT_EQ(checksum(std::vector<uint8_t>(8, 0).data(), 8), 0xffff);
}

TEST(ChecksumIncremental, Update32EqualsFullRecomputeForAChangedAddressOrSequenceNumber) {
  std::mt19937 rng(14);
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> seg(40);  // 12-byte pseudo-header image + 28 bytes of TCP-ish header
    for (auto& b : seg) b = static_cast<uint8_t>(rng());
    seg[9] = 6;
    const size_t csum_off = 12 + 16;
    store_be16(&seg[csum_off], recompute(seg, csum_off));
    // A 32-bit field at an even offset: an address (0, 4) or the sequence / ack number.
    const size_t fields[] = {0, 4, 12 + 4, 12 + 8, 12 + 2};
    const size_t field = fields[rng() % 5];
    const uint32_t old_value = load_be32(&seg[field]);
    uint32_t new_value = static_cast<uint32_t>(rng());
    if (i % 10 == 0) new_value = 0;
    if (i % 10 == 1) new_value = 0xffffffff;
    if (i % 10 == 2) new_value = old_value + 1;
    store_be32(&seg[field], new_value);
    const uint16_t updated = update32(load_be16(&seg[csum_off]), old_value, new_value);
    EXPECT_EQ(updated, recompute(seg, csum_off)) << "field=" << field;
  }
}

TEST(ChecksumIncremental, Update16OnARealIpv4HeaderTtlDecrementMatchesRecompute) {
  auto hdr = kIpv4Header;
  const uint16_t old_word = load_be16(&hdr[8]);  // TTL | protocol
  hdr[8] -= 1;
  const uint16_t new_word = load_be16(&hdr[8]);
  const uint16_t updated = update16(load_be16(&hdr[10]), old_word, new_word);
  store_be16(&hdr[10], 0);
  EXPECT_EQ(updated, checksum(hdr.data(), hdr.size()));
  EXPECT_EQ(updated, 0xb961);
}

}  // namespace
}  // namespace tuntcp::proto::csum
