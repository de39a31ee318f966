// Sender-side SACK loss recovery: the scoreboard (RFC 2018, RFC 6675 4), recovery with pipe
// and PRR (RFC 6675 5, RFC 6937), limited transmit (RFC 3042), NewReno without SACK (RFC 6582)
// and RTO recovery (RFC 5681 3.1, RFC 6298 5).
#include <random>

#include "proto/tcp/sack_scoreboard.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;
constexpr uint32_t M = 1460;

// Ten 1000-byte records from 1000.
SackScoreboard ten_segments() {
  SackScoreboard sb(64);
  for (uint32_t i = 0; i < 10; ++i) sb.on_send(Seq(1000 + 1000 * i), 1000, false, i);
  return sb;
}
auto noop = [](const TxSegment&) {};

TEST(TcpScoreboard, SackMarksOnlyFullyCoveredSegments) {
  SackScoreboard sb = ten_segments();
  EXPECT_EQ(sb.sack(Seq(2500), Seq(5000), noop), 2000u);  // 3000-4999; 2000-2999 only half
  EXPECT_FALSE(sb.at(1).has(TxSegment::kSacked));
  EXPECT_TRUE(sb.at(2).has(TxSegment::kSacked));
  EXPECT_TRUE(sb.at(3).has(TxSegment::kSacked));
  EXPECT_EQ(sb.sacked_bytes(), 2000u);
  EXPECT_EQ(sb.sacked_segments(), 2u);
}

TEST(TcpScoreboard, OverlappingAndRepeatedBlocksCountOnce) {
  SackScoreboard sb = ten_segments();
  EXPECT_EQ(sb.sack(Seq(3000), Seq(6000), noop), 3000u);
  EXPECT_EQ(sb.sack(Seq(4000), Seq(8000), noop), 2000u);  // 6000-7999 new
  EXPECT_EQ(sb.sack(Seq(3000), Seq(8000), noop), 0u);     // stale repeat
  EXPECT_EQ(sb.sacked_bytes(), 5000u);
}

TEST(TcpScoreboard, OutOfOrderBlocksMarkEveryRange) {
  SackScoreboard sb = ten_segments();
  sb.sack(Seq(9000), Seq(11000), noop);
  sb.sack(Seq(3000), Seq(4000), noop);
  sb.sack(Seq(6000), Seq(7000), noop);
  EXPECT_EQ(sb.sacked_segments(), 4u);
  EXPECT_EQ(sb.high_sacked(Seq(1000)), Seq(11000));
}

TEST(TcpScoreboard, PipeCountsUnsackedNotLostPlusRetransmitted) {
  SackScoreboard sb = ten_segments();
  EXPECT_EQ(sb.pipe(), 10000u);
  sb.sack(Seq(3000), Seq(6000), noop);  // 3 SACKed
  EXPECT_EQ(sb.pipe(), 7000u);
  EXPECT_TRUE(sb.mark_lost(0));
  EXPECT_TRUE(sb.mark_lost(1));
  EXPECT_EQ(sb.pipe(), 5000u);
  sb.on_retransmit(0, 100);  // RFC 6675 SetPipe: a retransmitted lost segment counts once
  EXPECT_EQ(sb.pipe(), 6000u);
  sb.on_retransmit(9, 100);  // not lost, retransmitted (a probe): counts twice
  EXPECT_EQ(sb.pipe(), 7000u);
}

TEST(TcpScoreboard, IsLostNeedsDupThreshSegmentsOrBytesAbove) {
  SackScoreboard sb = ten_segments();
  sb.sack(Seq(2000), Seq(4000), noop);  // records 1, 2: two segments above record 0
  EXPECT_EQ(sb.mark_lost_dupthresh(1000, 3), 0u);
  sb.sack(Seq(5000), Seq(6000), noop);  // record 4: three above record 0, one above record 3
  EXPECT_EQ(sb.mark_lost_dupthresh(1000, 3), 1000u);
  EXPECT_TRUE(sb.at(0).has(TxSegment::kLost));
  EXPECT_FALSE(sb.at(3).has(TxSegment::kLost));
  sb.sack(Seq(6000), Seq(8000), noop);  // records 5, 6: three above record 3
  EXPECT_EQ(sb.mark_lost_dupthresh(1000, 3), 1000u);
  EXPECT_TRUE(sb.at(3).has(TxSegment::kLost));
  EXPECT_FALSE(sb.at(7).has(TxSegment::kLost));
  // More than (DupThresh - 1) * SMSS SACKed bytes also do it, with fewer segments.
  SackScoreboard big(8);
  big.on_send(Seq(0), 100, false, 0);
  big.on_send(Seq(100), 3000, false, 0);
  big.sack(Seq(100), Seq(3100), noop);
  EXPECT_EQ(big.mark_lost_dupthresh(1000, 3), 100u);
}

TEST(TcpScoreboard, NextLostIsTheFirstHoleNotYetRetransmitted) {
  SackScoreboard sb = ten_segments();
  sb.mark_lost(5);
  sb.mark_lost(2);
  EXPECT_EQ(sb.next_lost(), 2u);
  sb.on_retransmit(2, 50);
  EXPECT_EQ(sb.next_lost(), 5u);
  sb.on_retransmit(5, 50);
  EXPECT_EQ(sb.next_lost(), SackScoreboard::kNone);
  EXPECT_TRUE(sb.mark_lost(2));  // the retransmission was lost too
  EXPECT_EQ(sb.next_lost(), 2u);
}

TEST(TcpScoreboard, CumulativeAckRemovesAndTrims) {
  SackScoreboard sb = ten_segments();
  sb.sack(Seq(2000), Seq(3000), noop);
  int seen = 0;
  sb.ack(Seq(3500), [&](const TxSegment&) { ++seen; });
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(sb.size(), 8u);
  EXPECT_EQ(sb.at(0).seq, Seq(3500));
  EXPECT_EQ(sb.at(0).len, 500u);
  EXPECT_EQ(sb.sacked_bytes(), 0u);
  EXPECT_EQ(sb.total_bytes(), 7500u);
}

TEST(TcpScoreboard, CollapseMergesSmallLostRecordsAndFin) {
  SackScoreboard sb(8);
  sb.on_send(Seq(0), 3, false, 0);
  sb.on_send(Seq(3), 4, false, 0);
  sb.on_send(Seq(7), 0, true, 0);
  sb.mark_all_lost();
  EXPECT_EQ(sb.collapse(0, 1460), 2u);
  EXPECT_EQ(sb.size(), 1u);
  EXPECT_EQ(sb.at(0).len, 7u);
  EXPECT_TRUE(sb.at(0).fin);
  EXPECT_EQ(sb.lost_bytes(), 8u);
}

TEST(TcpScoreboard, WrapsAroundTheSequenceSpace) {
  SackScoreboard sb(8);
  sb.on_send(Seq(0xfffff000u), 0x800, false, 0);
  sb.on_send(Seq(0xfffff800u), 0x1000, false, 0);
  sb.on_send(Seq(0x800u), 0x800, false, 0);
  EXPECT_EQ(sb.sack(Seq(0xfffff800u), Seq(0x800u), noop), 0x1000u);
  EXPECT_EQ(sb.find(Seq(0x10)), 1u);
}

class SackRecovery : public TcpTest {
 protected:
  // Ten full segments in flight over a 50 ms path.
  void ten_in_flight() {
    establish_sack();
    app_send(bytes(10 * M));
    for (uint32_t i = 0; i < 9; ++i) expect(F::ACK, S + M * i, P, -1, M);
    expect(F::ACK | F::PSH, S + M * 9, P, -1, M);
    expect_none();
    advance(50 * kMs);
  }
  uint32_t seg(uint32_t i) { return S + M * i; }
};

TEST_F(SackRecovery, ThreeSackedSegmentsMarkTheHoleLostAndRetransmitItFirst) {
  ten_in_flight();
  peer_sack(S, {{seg(1), seg(2)}});
  peer_sack(S, {{seg(1), seg(3)}});
  expect_none();
  EXPECT_FALSE(conn->in_recovery());
  peer_sack(S, {{seg(1), seg(4)}});
  EXPECT_TRUE(conn->in_recovery());
  expect(F::ACK, S, P, -1, M);  // HighACK + 1 first
  EXPECT_EQ(conn->stats().fast_retransmits, 1u);
  EXPECT_EQ(conn->stats().sack_recoveries, 1u);
}

TEST_F(SackRecovery, MultipleHolesAreRepairedInOneRoundTrip) {
  ten_in_flight();
  // Segments 0, 3 and 6 are lost.
  peer_sack(S, {{seg(1), seg(3)}});
  expect_none();
  peer_sack(S, {{seg(4), seg(6)}, {seg(1), seg(3)}});
  EXPECT_TRUE(conn->in_recovery());
  EXPECT_EQ(conn->ssthresh(), 7 * M);  // CUBIC: 0.7 * 10 segments
  expect(F::ACK, seg(0), P, -1, M);
  expect(F::ACK, seg(3), P, -1, M);
  expect_none();
  peer_sack(S, {{seg(7), seg(10)}, {seg(4), seg(6)}, {seg(1), seg(3)}});
  expect(F::ACK, seg(6), P, -1, M);
  expect_none();
  EXPECT_EQ(conn->snd_una(), Seq(S));  // all three went before any cumulative progress
  EXPECT_EQ(conn->pipe(), 3 * M);      // the three retransmissions
  peer(F::ACK, P, seg(10));
  EXPECT_FALSE(conn->in_recovery());
  EXPECT_EQ(conn->cwnd(), conn->ssthresh());  // Linux tcp_end_cwnd_reduction()
  EXPECT_EQ(conn->stats().retransmits, 3u);
}

TEST_F(SackRecovery, PipeExcludesSackedAndLostSegments) {
  ten_in_flight();
  peer_sack(S, {{seg(1), seg(4)}});
  // 10 sent, 3 SACKed, segment 0 lost and retransmitted: 6 + 1.
  EXPECT_EQ(conn->scoreboard().sacked_bytes(), 3 * M);
  EXPECT_EQ(conn->pipe(), 7 * M);
}

TEST_F(SackRecovery, StaleAndInvalidBlocksAreIgnored) {
  ten_in_flight();
  peer(F::ACK, P, seg(2));
  // A second block below SND.UNA (stale) and one beyond SND.MAX (invalid).
  peer_sack(seg(2), {{seg(3), seg(4)}, {seg(0), seg(1)}});
  peer_sack(seg(2), {{seg(12), seg(13)}});
  EXPECT_EQ(conn->scoreboard().sacked_bytes(), M);
  EXPECT_EQ(conn->stats().dsacks_received, 0u);
  EXPECT_FALSE(conn->in_recovery());
}

TEST_F(SackRecovery, PrrSendsInProportionWhilePipeIsAboveSsthresh) {
  establish_sack();
  app_send(bytes(20 * M));
  env.out.clear();  // 10 segments out (IW)
  advance(50 * kMs);
  peer_sack(S, {{seg(1), seg(4)}});  // segment 0 lost
  expect(F::ACK, S, P, -1, M);       // forced fast retransmit
  // pipe = 7 segments > ssthresh 7? equal: then each SACKed segment releases about one.
  env.out.clear();
  uint64_t before = conn->stats().segs_out;
  peer_sack(S, {{seg(1), seg(6)}});  // two more delivered
  uint64_t sent = conn->stats().segs_out - before;
  EXPECT_GE(sent, 1u);
  EXPECT_LE(sent, 2u);
  EXPECT_LE(conn->pipe(), conn->ssthresh());
}

TEST_F(SackRecovery, LimitedTransmitWithSackReleasesNewDataForSackedSegments) {
  establish_sack();
  app_send(bytes(12 * M));
  env.out.clear();
  advance(50 * kMs);
  peer_sack(S, {{seg(1), seg(2)}});
  expect(F::ACK, seg(10), P, -1, M);  // one segment left the network: one new one
  expect_none();
  EXPECT_FALSE(conn->in_recovery());
  EXPECT_EQ(conn->cwnd(), 10 * M);
}

TEST_F(SackRecovery, WithoutSackThreeDupAcksUseNewReno) {
  establish_passive();
  EXPECT_FALSE(conn->sack_enabled());
  app_send(bytes(10 * M));
  env.out.clear();
  for (int i = 0; i < 3; ++i) peer(F::ACK, P, S);
  expect(F::ACK, S, P, -1, M);
  EXPECT_TRUE(conn->in_recovery());
  EXPECT_EQ(conn->cwnd(), conn->ssthresh() + 3 * M);  // RFC 6582 window inflation
}

class LimitedTransmit : public TcpTest {};

TEST_F(LimitedTransmit, FirstTwoDupAcksEachSendOneNewSegment) {
  establish_passive();
  app_send(bytes(14 * M));
  env.out.clear();
  peer(F::ACK, P, S);
  expect(F::ACK, S + 10 * M, P, -1, M);
  expect_none();
  peer(F::ACK, P, S);
  expect(F::ACK, S + 11 * M, P, -1, M);
  expect_none();
  EXPECT_EQ(conn->cwnd(), 10 * M);  // RFC 3042: cwnd itself is unchanged
  EXPECT_FALSE(conn->in_recovery());
  peer(F::ACK, P, S);
  expect(F::ACK, S, P, -1, M);  // the third is a fast retransmit
  EXPECT_TRUE(conn->in_recovery());
}

TEST_F(LimitedTransmit, NothingBeyondThePeerWindow) {
  establish_passive(10 * M);
  app_send(bytes(14 * M));
  env.out.clear();
  peer(F::ACK, P, S, {}, 10 * M);
  expect_none();
}

class RtoRecovery : public TcpTest {
 protected:
  void make_newreno(bool sack) {
    Config c = base_config();
    c.cc = CcAlgo::kNewReno;
    c.sack = sack;
    make(c);
  }
};

TEST_F(RtoRecovery, TimeoutSetsLossWindowAndHalvesFlightSize) {
  make_newreno(false);
  establish_passive();
  app_send(bytes(10 * M));
  env.out.clear();
  advance(200 * kMs);
  expect(F::ACK, S, P, -1, M);
  expect_none();
  EXPECT_EQ(conn->ca_state(), CaState::kLoss);
  EXPECT_EQ(conn->cwnd(), M);              // RFC 5681 3.1: LW = 1 SMSS
  EXPECT_EQ(conn->ssthresh(), 5 * M);      // max(FlightSize / 2, 2 * SMSS)
}

TEST_F(RtoRecovery, GoBackNRetransmitsInOrderAsSlowStartOpensTheWindow) {
  make_newreno(false);
  establish_passive();
  app_send(bytes(10 * M));
  env.out.clear();
  advance(200 * kMs);
  expect(F::ACK, S, P, -1, M);
  peer(F::ACK, P, S + M);
  expect(F::ACK, S + M, P, -1, M);
  expect(F::ACK, S + 2 * M, P, -1, M);
  expect_none();
  peer(F::ACK, P, S + 3 * M);
  for (uint32_t i = 3; i < 7; ++i) expect(F::ACK, S + i * M, P, -1, M);
  expect_none();
  peer(F::ACK, P, S + 10 * M);  // the rest had arrived: the loss state ends
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->stats().retransmits, 7u);
}

TEST_F(RtoRecovery, RepeatedTimeoutsDoNotCutSsthreshAgain) {
  make_newreno(false);
  establish_passive();
  app_send(bytes(10 * M));
  env.out.clear();
  advance(200 * kMs);
  uint32_t ss = conn->ssthresh();
  advance(400 * kMs);
  EXPECT_EQ(conn->stats().timeouts, 2u);
  EXPECT_EQ(conn->ssthresh(), ss);
  EXPECT_EQ(conn->cwnd(), M);
}

TEST_F(RtoRecovery, SackedSegmentsAreNotRetransmittedAfterTimeout) {
  make_newreno(true);
  establish_sack();
  app_send(bytes(4 * M));
  env.out.clear();
  advance(50 * kMs);
  peer_sack(S, {{S + M, S + 2 * M}});  // one SACKed: RACK waits for the reordering window
  advance(conn->rtx_deadline() - now);  // the reordering timer: segment 0 is lost
  expect(F::ACK, S, P, -1, M);
  env.out.clear();
  advance(conn->rtx_deadline() - now);  // then the RTO
  EXPECT_EQ(conn->ca_state(), CaState::kLoss);
  expect(F::ACK, S, P, -1, M);
  expect_none();
  peer_sack(S + M, {{S + M, S + 2 * M}});
  peer_sack(S + 2 * M, {});
  expect(F::ACK, S + 2 * M, P, -1, M);  // segment 1 was SACKed: skipped
  expect(F::ACK | F::PSH, S + 3 * M, P, -1, M);
}

TEST_F(RtoRecovery, CubicTimeoutUsesBetaAndLossWindow) {
  establish_passive();
  app_send(bytes(10 * M));
  env.out.clear();
  advance(200 * kMs);
  EXPECT_EQ(conn->cwnd(), M);
  EXPECT_EQ(conn->ssthresh(), 7 * M);  // Linux: CUBIC's ssthresh on entering the loss state
}

// Arbitrary ACKs with arbitrary SACK and D-SACK blocks, losses and timeouts: the scoreboard
// stays consistent with the sequence space, and every timer is sane.
TEST_F(SackRecovery, RandomSackBlocksKeepTheScoreboardConsistent) {
  std::mt19937 rng(777);
  for (int round = 0; round < 60; ++round) {
    env = TestEnv();
    conn.reset();
    Config c = base_config();
    c.sack = true;
    c.cc = round % 2 ? CcAlgo::kCubic : CcAlgo::kNewReno;
    c.rack = round % 3 != 0;
    c.tlp = round % 4 != 0;
    c.send_buffer = 4000 + rng() % 60000;
    make(c);
    establish_sack(1 + rng() % 100 * kMs);
    for (int i = 0; i < 300; ++i) {
      if (rng() % 3 == 0) app_send(std::string(rng() % 5000, 'y'));
      uint32_t una = conn->snd_una().raw();
      uint32_t span = conn->snd_nxt().raw() - una + 1;
      uint32_t ack = una + (rng() % 4 == 0 ? rng() % span : 0);
      TcpOptions o;
      o.sack_count = static_cast<uint8_t>(rng() % 4);
      for (uint8_t k = 0; k < o.sack_count; ++k) {
        uint32_t l = una - 2000 + rng() % (span + 4000);
        o.sack[k] = SackBlock{Seq(l), Seq(l + rng() % 6000)};
      }
      peer(F::ACK, P, ack, {}, 65535, o);
      advance(rng() % 80 * kMs);
      const SackScoreboard& sb = conn->scoreboard();
      ASSERT_LE(sb.sacked_bytes() + sb.lost_bytes(), sb.total_bytes());
      ASSERT_LE(sb.pipe(), sb.total_bytes() + sb.retrans_bytes());
      ASSERT_GE(conn->next_deadline(), now);
      ASSERT_GE(conn->cwnd(), conn->snd_mss());
      if (!sb.empty()) {
        ASSERT_EQ(sb.at(0).seq, conn->snd_una());
        ASSERT_EQ(sb.back().end(), conn->snd_nxt());
        for (size_t k = 1; k < sb.size(); ++k) ASSERT_EQ(sb.at(k).seq, sb.at(k - 1).end());
      } else {
        ASSERT_EQ(conn->snd_una(), conn->snd_nxt());
      }
      env.out.clear();
      if (conn->state() == State::kClosed) break;
    }
  }
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
