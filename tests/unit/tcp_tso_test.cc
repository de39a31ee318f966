// TCP segmentation offload from the connection's side: with Config::tso_max the connection
// emits super-segments of whole MSS (the engine hands them to the kernel as TSO/GSO frames),
// a SACK that covers part of one splits it at MSS boundaries (Linux tcp_match_skb_to_sack()),
// and a lost super-segment is retransmitted one MSS at a time (Linux tcp_retransmit_skb()).
#include "proto/tcp/sack_scoreboard.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;
constexpr uint32_t M = 1460;

class TcpTso : public TcpTest {
 protected:
  void SetUp() override {
    Config c = base_config();
    c.tso_max = 65535 - 80;
    c.send_buffer = 1 << 20;
    make(c);
  }
};

TEST_F(TcpTso, InitialWindowGoesOutAsOneSuperSegment) {
  establish_passive();
  app_send(bytes(30000));
  // IW10 (RFC 6928): ten MSS in one emitted segment.
  expect(F::ACK, S, P, -1, 10 * M);
  expect_none();
}

TEST_F(TcpTso, SuperSegmentEndsExactlyAtTheEndOfTheData) {
  establish_passive();
  app_send(bytes(5000));
  expect(F::ACK | F::PSH, S, P, -1, 5000);
  expect_none();
}

TEST_F(TcpTso, WindowLimitedSuperSegmentCarriesWholeSegmentsOnly) {
  establish_passive(20000);  // the peer's window: 13 MSS and a bit
  app_send(bytes(60000));
  // cwnd (10 MSS) is the tighter limit here; after the ACK the window is: 20000 - in flight.
  expect(F::ACK, S, P, -1, 10 * M);
  peer(F::ACK, P, S + 10 * M, {}, 20000);
  // The ACK opens cwnd to 20 MSS but the window allows 20000 bytes: 13 whole MSS, not 13.7.
  const Sent s = expect(F::ACK, S + 10 * M, P, -1, 13 * M);
  EXPECT_EQ(s.payload.size() % M, 0u);
}

TEST_F(TcpTso, LostSuperSegmentIsRetransmittedOneMssAtATime) {
  establish_passive();
  app_send(bytes(10 * M));
  expect(F::ACK | F::PSH, S, P, -1, 10 * M);
  advance(conn->rto_us());  // nothing acknowledged: RTO
  expect(F::ACK, S, P, -1, M);
  expect_none();
}

TEST(TcpTsoScoreboard, PartialSackSplitsARecordAtMssMultiples) {
  SackScoreboard sb(64);
  sb.set_split_unit(1000);
  sb.on_send(Seq(1000), 10000, false, 0);  // one super-segment, 10 MSS
  // The receiver got MSS-sized pieces 4000..6999 (the block edges fall on MSS multiples).
  EXPECT_EQ(sb.sack(Seq(4000), Seq(7000), [](const TxSegment&) {}), 3000u);
  ASSERT_EQ(sb.size(), 3u);
  EXPECT_EQ(sb.at(0).seq, Seq(1000));
  EXPECT_EQ(sb.at(0).len, 3000u);
  EXPECT_FALSE(sb.at(0).has(TxSegment::kSacked));
  EXPECT_EQ(sb.at(1).seq, Seq(4000));
  EXPECT_EQ(sb.at(1).len, 3000u);
  EXPECT_TRUE(sb.at(1).has(TxSegment::kSacked));
  EXPECT_EQ(sb.at(2).seq, Seq(7000));
  EXPECT_EQ(sb.at(2).len, 4000u);
  EXPECT_FALSE(sb.at(2).has(TxSegment::kSacked));
  EXPECT_EQ(sb.sacked_bytes(), 3000u);
  EXPECT_EQ(sb.total_bytes(), 10000u);
}

TEST(TcpTsoScoreboard, BlockEdgesInsideAnMssRoundInward) {
  SackScoreboard sb(64);
  sb.set_split_unit(1000);
  sb.on_send(Seq(0), 5000, false, 0);
  // 1500..3500 covers only 2000..2999 completely.
  EXPECT_EQ(sb.sack(Seq(1500), Seq(3500), [](const TxSegment&) {}), 1000u);
  EXPECT_EQ(sb.sacked_bytes(), 1000u);
  EXPECT_EQ(sb.total_bytes(), 5000u);
}

TEST(TcpTsoScoreboard, WithoutSplitUnitOnlyWholeRecordsAreSacked) {
  SackScoreboard sb(64);
  sb.on_send(Seq(0), 5000, false, 0);
  EXPECT_EQ(sb.sack(Seq(1000), Seq(3000), [](const TxSegment&) {}), 0u);
  EXPECT_EQ(sb.size(), 1u);
}

TEST(TcpTsoScoreboard, SplitKeepsTheFinOnTheTail) {
  SackScoreboard sb(8);
  sb.on_send(Seq(0), 3000, true, 0);
  ASSERT_TRUE(sb.split(0, 1000));
  EXPECT_FALSE(sb.at(0).fin);
  EXPECT_TRUE(sb.at(1).fin);
  EXPECT_EQ(sb.at(1).end(), Seq(3001));
  EXPECT_EQ(sb.total_bytes(), 3001u);
  EXPECT_FALSE(sb.split(0, 1000));  // not inside the record
  EXPECT_FALSE(sb.split(0, 0));
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing

namespace tuntcp::proto::tcp::testing {
namespace {

class TcpAckCoalescing : public TcpTest {
 protected:
  void SetUp() override {
    Config c = base_config();
    c.coalesce_acks = true;
    make(c);
  }
};

TEST_F(TcpAckCoalescing, OneAckPerBatchOfInOrderSegments) {
  establish_passive();
  for (int i = 0; i < 6; ++i) peer(F::ACK, kPeerIss + 1 + i * 1000, kIss + 1, bytes(1000));
  expect_none();  // no every-second-segment ACK inside the batch
  EXPECT_TRUE(conn->flush_acks(now));
  expect(F::ACK, kIss + 1, kPeerIss + 1 + 6000);
  expect_none();
  EXPECT_FALSE(conn->flush_acks(now));  // nothing pending any more
}

TEST_F(TcpAckCoalescing, OutOfOrderSegmentsAreStillAckedAtOnce) {
  establish_passive();
  peer(F::ACK, kPeerIss + 1 + 1000, kIss + 1, bytes(1000));  // a hole before it
  expect(F::ACK, kIss + 1, kPeerIss + 1);                    // immediate duplicate ACK
  peer(F::ACK, kPeerIss + 1, kIss + 1, bytes(1000));          // fills the hole
  expect(F::ACK, kIss + 1, kPeerIss + 1 + 2000);              // immediate as well
}

TEST_F(TcpAckCoalescing, DelayedAckTimerCoversAMissingFlush) {
  establish_passive();
  peer(F::ACK, kPeerIss + 1, kIss + 1, bytes(1000));
  peer(F::ACK, kPeerIss + 1001, kIss + 1, bytes(1000));
  expect_none();
  advance(cfg.delayed_ack_us);
  expect(F::ACK, kIss + 1, kPeerIss + 1 + 2000);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
