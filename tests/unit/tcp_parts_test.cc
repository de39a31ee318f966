// The small parts of the TCP core: ISN generator (RFC 6528, SipHash-2-4), byte ring, RTO
// estimator (RFC 6298), NewReno windows (RFC 5681, RFC 6582, RFC 6928).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "proto/tcp/isn.h"
#include "proto/tcp/newreno.h"
#include "proto/tcp/ring.h"
#include "proto/tcp/rtt.h"

namespace tuntcp::proto::tcp {
namespace {

SipKey reference_key() {
  uint8_t k[16];
  for (int i = 0; i < 16; ++i) k[i] = static_cast<uint8_t>(i);
  SipKey key;
  std::memcpy(&key.k0, k, 8);
  std::memcpy(&key.k1, k + 8, 8);
  return key;
}

TEST(TcpIsn, SipHashMatchesReferenceVectors) {
  // Vectors from the SipHash paper's reference implementation (key 00..0f, message 00..len-1).
  SipKey key = reference_key();
  uint8_t m[64];
  for (int i = 0; i < 64; ++i) m[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(siphash24(key, m, 0), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(siphash24(key, m, 1), 0x74f839c593dc67fdULL);
  EXPECT_EQ(siphash24(key, m, 15), 0xa129ca6149be45e5ULL);
}

TEST(TcpIsn, AdvancesWithTheFourMicrosecondClock) {
  IsnGenerator g(reference_key());
  Seq a = g.isn(1, 80, 2, 5000, 0);
  Seq b = g.isn(1, 80, 2, 5000, 4000);
  EXPECT_EQ(b - a, 1000);
}

TEST(TcpIsn, DiffersPerTupleAndSecret) {
  IsnGenerator g(reference_key());
  EXPECT_NE(g.isn(1, 80, 2, 5000, 0), g.isn(1, 80, 2, 5001, 0));
  IsnGenerator h(SipKey{1, 2});
  EXPECT_NE(g.isn(1, 80, 2, 5000, 0), h.isn(1, 80, 2, 5000, 0));
}

TEST(TcpRing, WrapsAndPeeksTwoSpans) {
  ByteRing r(8);
  const uint8_t a[6] = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(r.write(a), 6u);
  EXPECT_EQ(r.consume(4), 4u);
  const uint8_t b[6] = {7, 8, 9, 10, 11, 12};
  EXPECT_EQ(r.write(b), 6u);
  EXPECT_EQ(r.free(), 0u);
  TwoSpans s = r.peek(1, 6);
  EXPECT_EQ(s.a.size() + s.b.size(), 6u);
  EXPECT_FALSE(s.b.empty());
  uint8_t out[8];
  EXPECT_EQ(r.read(out), 8u);
  const uint8_t want[8] = {5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(std::memcmp(out, want, 8), 0);
  EXPECT_TRUE(r.empty());
}

TEST(TcpRing, WriteStopsWhenFullAndPeekClamps) {
  ByteRing r(4);
  const uint8_t a[6] = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(r.write(a), 4u);
  EXPECT_EQ(r.peek(3, 10).size(), 1u);
  EXPECT_EQ(r.peek(4, 10).size(), 0u);
  EXPECT_EQ(r.consume(10), 4u);
}

TEST(TcpRtt, FirstSampleSetsSrttAndRttvar) {
  RttEstimator e(1'000'000, 200'000, 120'000'000);
  EXPECT_EQ(e.rto_us(), 1'000'000u);
  e.sample(100'000);
  EXPECT_EQ(e.srtt_us(), 100'000u);
  EXPECT_EQ(e.rttvar_us(), 50'000u);
  EXPECT_EQ(e.rto_us(), 300'000u);
}

TEST(TcpRtt, LaterSamplesSmooth) {
  RttEstimator e(1'000'000, 1'000, 120'000'000);
  e.sample(100'000);
  e.sample(200'000);
  EXPECT_EQ(e.rttvar_us(), (3 * 50'000 + 100'000) / 4u);
  EXPECT_EQ(e.srtt_us(), (7 * 100'000 + 200'000) / 8u);
  EXPECT_EQ(e.rto_us(), e.srtt_us() + 4 * e.rttvar_us());
}

TEST(TcpRtt, MinMaxAndBackoff) {
  RttEstimator e(1'000'000, 200'000, 3'000'000);
  e.sample(1'000);
  EXPECT_EQ(e.rto_us(), 200'000u);
  e.backoff();
  EXPECT_EQ(e.rto_us(), 400'000u);
  for (int i = 0; i < 10; ++i) e.backoff();
  EXPECT_EQ(e.rto_us(), 3'000'000u);
  e.sample(1'000);
  EXPECT_LT(e.rto_us(), 3'000'000u);  // a valid sample ends the backoff
}

TEST(TcpNewReno, InitialWindowPerRfc6928) {
  NewReno c;
  c.init(1460);
  EXPECT_EQ(c.cwnd(), 14600u);
  c.init(536);
  EXPECT_EQ(c.cwnd(), 5360u);
  c.init(9000);
  EXPECT_EQ(c.cwnd(), 18000u);  // max(2 * MSS, 14600) bound
}

TEST(TcpNewReno, CongestionAvoidanceAddsOneMssPerWindow) {
  NewReno c;
  c.init(1000);
  c.on_rto(20000, true);  // ssthresh 10000, cwnd 1000
  AckSample a;
  a.acked = 1000;
  while (c.cwnd() < c.ssthresh()) c.on_ack(a);
  uint32_t w = c.cwnd();
  for (uint32_t acked = 0; acked < w; acked += 1000) c.on_ack(a);
  EXPECT_EQ(c.cwnd(), w + 1000);
}

TEST(TcpNewReno, RecoveryInflateDeflateExit) {
  NewReno c;
  c.init(1000);
  c.on_enter_recovery(10000);
  EXPECT_EQ(c.ssthresh(), 5000u);
  EXPECT_EQ(c.cwnd(), 8000u);
  c.on_dupack_in_recovery();
  EXPECT_EQ(c.cwnd(), 9000u);
  c.on_partial_ack(2000);
  EXPECT_EQ(c.cwnd(), 8000u);
  c.on_exit_recovery(3000);
  EXPECT_EQ(c.cwnd(), 4000u);
}

}  // namespace
}  // namespace tuntcp::proto::tcp
