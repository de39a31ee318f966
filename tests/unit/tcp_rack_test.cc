// RACK-TLP (RFC 8985): time-based loss detection with a reordering window, the reordering
// timer, and the tail loss probe.
#include "proto/tcp/rack.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;
constexpr uint32_t M = 1460;

TEST(TcpRack, SegmentSentBeforeADeliveredOneIsLostAfterRttPlusWindow) {
  SackScoreboard sb(16);
  for (uint32_t i = 0; i < 4; ++i) sb.on_send(Seq(1000 * i), 1000, false, 100 + i);
  Rack r;
  sb.sack(Seq(2000), Seq(3000), [&](const TxSegment& s) { r.on_delivered(s, 50'100, 0); });
  EXPECT_EQ(r.rtt_us(), 50'100u - 102);
  uint32_t lost = 0;
  // Records 0 and 1 were sent before record 2: due at xmit + RACK.rtt + reo_wnd.
  // due(i) = (100 + i) + 49'998 + 5'000 = 55'098 + i.
  EXPECT_EQ(r.detect_loss(sb, 50'100, 5'000, &lost), 4'999u);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(r.detect_loss(sb, 55'098, 5'000, &lost), 1u);
  EXPECT_EQ(lost, 1000u);  // record 0 only
  EXPECT_TRUE(sb.at(0).has(TxSegment::kLost));
  EXPECT_EQ(r.detect_loss(sb, 55'099, 5'000, &lost), 0u);
  EXPECT_TRUE(sb.at(1).has(TxSegment::kLost));
  EXPECT_FALSE(sb.at(3).has(TxSegment::kLost));  // sent after: never by RACK
}

TEST(TcpRack, ReorderingWindowIsZeroAfterDupThreshUnlessReorderingWasSeen) {
  Rack r;
  EXPECT_EQ(r.reo_wnd(false, 1, 40'000, 100'000), 10'000u);  // min_RTT / 4
  EXPECT_EQ(r.reo_wnd(false, 3, 40'000, 100'000), 0u);
  EXPECT_EQ(r.reo_wnd(true, 0, 40'000, 100'000), 0u);
  // A never-retransmitted segment delivered below the highest delivered: reordering.
  TxSegment hi{Seq(2000), 1000, false, 0, 10};
  TxSegment lo{Seq(0), 1000, false, 0, 5};
  r.on_delivered(hi, 100, 0);
  r.on_delivered(lo, 100, 0);
  EXPECT_TRUE(r.reordering_seen());
  EXPECT_EQ(r.reo_wnd(true, 5, 40'000, 100'000), 10'000u);
  EXPECT_EQ(r.reo_wnd(true, 5, 40'000, 8'000), 8'000u);  // at most SRTT
}

TEST(TcpRack, DsackWidensTheWindowOncePerRoundAndRecoveriesShrinkItBack) {
  Rack r;
  r.on_dsack(Seq(100), Seq(200));
  r.on_dsack(Seq(150), Seq(250));  // same round
  EXPECT_EQ(r.reo_wnd_mult(), 2u);
  r.on_dsack(Seq(200), Seq(300));  // SND.UNA passed the round
  EXPECT_EQ(r.reo_wnd_mult(), 3u);
  for (int i = 0; i < Rack::kReoWndPersist; ++i) r.on_recovery_exit();
  EXPECT_EQ(r.reo_wnd_mult(), 1u);
}

// The engine's batch clock measures 0 µs round trips on a fast path; with min_RTT 0 the window
// could never open however many D-SACK rounds said the path reorders (found with 25 %
// reordering: 2x the kernel's retransmissions). The base is floored at one millisecond.
TEST(TcpRack, ReorderingWindowBaseHasAFloorForZeroRtts) {
  Rack r;
  EXPECT_EQ(r.reo_wnd(false, 0, 0, 100'000), Rack::kMinRttFloorUs / 4);
  for (uint32_t i = 0; i < 40; ++i) r.on_dsack(Seq(i * 100), Seq(i * 100 + 100));
  EXPECT_EQ(r.reo_wnd_mult(), 41u);
  EXPECT_EQ(r.reo_wnd(false, 0, 0, 100'000), 41 * Rack::kMinRttFloorUs / 4);
  EXPECT_EQ(r.reo_wnd(false, 0, 0, 6'000), 6'000u);  // still at most SRTT
  EXPECT_EQ(r.reo_wnd(false, 0, 40'000, 100'000), 100'000u);  // 41 x 10 ms, capped at SRTT
}

TEST(TcpRack, ProbeTimeoutIsTwoSrttWithFloorsAndRtoCap) {
  EXPECT_EQ(tlp_timeout(30'000, true, false, 200'000, 10'000, 1'000'000), 60'000u);
  EXPECT_EQ(tlp_timeout(30'000, true, true, 200'000, 10'000, 1'000'000), 260'000u);
  EXPECT_EQ(tlp_timeout(1'000, true, false, 200'000, 10'000, 1'000'000), 10'000u);
  EXPECT_EQ(tlp_timeout(0, false, false, 200'000, 10'000, 5'000'000), 1'000'000u);
  EXPECT_EQ(tlp_timeout(300'000, true, false, 200'000, 10'000, 400'000), 400'000u);
}

class RackTlp : public TcpTest {
 protected:
  void ten_in_flight() {
    establish_sack();
    app_send(bytes(10 * M));
    env.out.clear();
    advance(50 * kMs);
  }
};

TEST_F(RackTlp, OneSackArmsTheReorderingTimerThenTheHoleIsLost) {
  ten_in_flight();
  peer_sack(S, {{S + M, S + 2 * M}});
  expect_none();
  EXPECT_EQ(conn->rtx_timer(), Connection::RtxTimer::kReo);
  // RACK.rtt 50 ms, reo_wnd = min_RTT / 4 = 12.5 ms after the segment was sent.
  EXPECT_EQ(conn->rtx_deadline(), now + 12'500);
  advance(12'499);
  expect_none();
  advance(1);
  expect(F::ACK, S, P, -1, M);
  EXPECT_TRUE(conn->in_recovery());
  EXPECT_EQ(conn->stats().rack_lost, 1u);
  EXPECT_EQ(conn->rtx_timer(), Connection::RtxTimer::kRto);
}

TEST_F(RackTlp, ReorderedDeliveryWithinTheWindowIsNotALoss) {
  ten_in_flight();
  peer_sack(S, {{S + M, S + 2 * M}});
  advance(5 * kMs);
  peer_sack(S + 2 * M, {});  // segment 0 arrived late: reordering, not loss
  expect_none();
  EXPECT_FALSE(conn->in_recovery());
  EXPECT_TRUE(conn->rack().reordering_seen());
  EXPECT_EQ(conn->stats().retransmits, 0u);
}

TEST_F(RackTlp, TailLossProbeFiresAtPtoAndRetransmitsTheLastSegment) {
  ten_in_flight();
  peer(F::ACK, P, S + 8 * M);  // the last two segments are lost
  EXPECT_EQ(conn->rtx_timer(), Connection::RtxTimer::kTlp);
  // SRTT after samples of 50 ms: PTO = 2 * SRTT (two segments in flight).
  uint64_t pto = 2 * conn->rtt().srtt_us();
  EXPECT_EQ(conn->rtx_deadline(), now + pto);
  advance(pto - 1);
  expect_none();
  advance(1);
  expect(F::ACK | F::PSH, S + 9 * M, P, -1, M);
  EXPECT_EQ(conn->stats().tlp_probes, 1u);
  EXPECT_EQ(conn->stats().timeouts, 0u);
  EXPECT_EQ(conn->rtx_timer(), Connection::RtxTimer::kRto);
  // The probe is SACKed: segment 8, sent long before it, is lost: fast recovery, no RTO.
  advance(50 * kMs);
  peer_sack(S + 8 * M, {{S + 9 * M, S + 10 * M}});
  expect(F::ACK, S + 8 * M, P, -1, M);
  EXPECT_TRUE(conn->in_recovery());
  peer(F::ACK, P, S + 10 * M);
  EXPECT_FALSE(conn->in_recovery());
  EXPECT_EQ(conn->stats().timeouts, 0u);
}

TEST_F(RackTlp, TailLossProbeSendsNewDataWhenThereIsSome) {
  establish_sack();
  app_send(bytes(12 * M));
  env.out.clear();  // 10 segments (cwnd), 2 waiting
  uint64_t pto = conn->rtx_deadline() - now;
  EXPECT_EQ(pto, 2 * conn->rtt().srtt_us());
  advance(pto);
  expect(F::ACK, S + 10 * M, P, -1, M);  // beyond cwnd: the probe may
  expect_none();
  EXPECT_EQ(conn->stats().tlp_probes, 1u);
  EXPECT_EQ(conn->stats().retransmits, 0u);
}

TEST_F(RackTlp, OneSegmentInFlightWaitsForTheDelayedAckToo) {
  establish_sack();
  app_send("x");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  // PTO = 2 * 50 ms + WCDelAckT 200 ms, capped at the RTO.
  uint64_t expect_pto = std::min<uint64_t>(100 * kMs + 200 * kMs, conn->rto_us());
  EXPECT_EQ(conn->rtx_deadline() - now, expect_pto);
}

TEST_F(RackTlp, NoProbeWithoutSack) {
  establish_passive();
  app_send(bytes(3 * M));
  env.out.clear();
  EXPECT_EQ(conn->rtx_timer(), Connection::RtxTimer::kRto);
  EXPECT_EQ(conn->rtx_deadline(), now + conn->rto_us());
}

TEST_F(RackTlp, OnlyOneProbeIsOutstandingThenTheRto) {
  ten_in_flight();
  peer(F::ACK, P, S + 9 * M);
  advance(conn->rtx_deadline() - now);
  expect(F::ACK | F::PSH, S + 9 * M, P, -1, M);
  EXPECT_EQ(conn->rtx_timer(), Connection::RtxTimer::kRto);
  advance(conn->rtx_deadline() - now);
  EXPECT_EQ(conn->stats().timeouts, 1u);
  EXPECT_EQ(conn->stats().tlp_probes, 1u);
}

TEST_F(RackTlp, ProbeThatRepairedALossReducesTheWindowOnce) {
  ten_in_flight();
  peer(F::ACK, P, S + 9 * M);
  advance(conn->rtx_deadline() - now);
  expect(F::ACK | F::PSH, S + 9 * M, P, -1, M);
  app_send(bytes(M));
  env.out.clear();
  uint32_t before = conn->cwnd();
  advance(50 * kMs);
  peer(F::ACK, P, S + 11 * M);  // beyond the probe: it repaired the tail loss
  EXPECT_EQ(conn->stats().tlp_recoveries, 1u);
  EXPECT_LT(conn->cwnd(), before);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
