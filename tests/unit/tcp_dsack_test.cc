// D-SACK (RFC 2883): the receiver reports duplicate data in the first SACK block; the sender
// counts retransmissions it shows spurious and undoes the window reduction (Linux).
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;
constexpr uint32_t M = 1460;

class Dsack : public TcpTest {};

TEST_F(Dsack, DuplicateSegmentBelowRcvNxtIsReportedFirstAndOnce) {
  establish_sack();
  peer(F::ACK, P, S, "abcdef");
  advance(40 * kMs);
  expect(F::ACK, S, P + 6);
  peer(F::ACK, P, S, "abcdef");  // again
  Sent a = expect(F::ACK, S, P + 6);
  ASSERT_EQ(a.h.opt.sack_count, 1);
  EXPECT_EQ(a.h.opt.sack[0], (SackBlock{Seq(P), Seq(P + 6)}));
  EXPECT_EQ(conn->stats().dsacks_sent, 1u);
  peer(F::ACK, P + 6, S, "gh");
  advance(40 * kMs);
  Sent b = expect(F::ACK, S, P + 8);
  EXPECT_EQ(b.h.opt.sack_count, 0);
}

TEST_F(Dsack, PartialDuplicateReportsTheOverlapOnly) {
  establish_sack();
  peer(F::ACK, P, S, "abcd");
  peer(F::ACK, P + 2, S, "cdefgh");
  advance(40 * kMs);
  Sent a = expect(F::ACK, S, P + 8);
  ASSERT_GE(a.h.opt.sack_count, 1);
  EXPECT_EQ(a.h.opt.sack[0], (SackBlock{Seq(P + 2), Seq(P + 4)}));
  EXPECT_EQ(env.received, "abcdefgh");
}

TEST_F(Dsack, DuplicateOutOfOrderDataIsFollowedByItsSackBlock) {
  establish_sack();
  peer(F::ACK, P + 100, S, bytes(50));
  expect(F::ACK, S, P);
  peer(F::ACK, P + 100, S, bytes(50));
  Sent a = expect(F::ACK, S, P);
  ASSERT_EQ(a.h.opt.sack_count, 2);
  EXPECT_EQ(a.h.opt.sack[0], (SackBlock{Seq(P + 100), Seq(P + 150)}));  // D-SACK
  EXPECT_EQ(a.h.opt.sack[1], (SackBlock{Seq(P + 100), Seq(P + 150)}));  // the queued block
}

TEST_F(Dsack, NoDsackWithoutSack) {
  establish_passive();
  peer(F::ACK, P, S, "abc");
  advance(40 * kMs);
  env.out.clear();
  peer(F::ACK, P, S, "abc");
  Sent a = expect(F::ACK, S, P + 3);
  EXPECT_EQ(a.h.opt.sack_count, 0);
}

class DsackSender : public TcpTest {
 protected:
  // Ten segments; the peer SACKs 1-3, so segment 0 is retransmitted in fast recovery.
  void spurious_fast_retransmit() {
    establish_sack();
    app_send(bytes(10 * M));
    env.out.clear();
    advance(50 * kMs);
    cwnd_before = conn->cwnd();
    peer_sack(S, {{S + M, S + 4 * M}});
    expect(F::ACK, S, P, -1, M);
    ASSERT_TRUE(conn->in_recovery());
    ASSERT_LT(conn->cwnd(), cwnd_before);
  }
  uint32_t cwnd_before = 0;
};

TEST_F(DsackSender, DsackOfARetransmissionCountsItSpuriousAndUndoesTheReduction) {
  spurious_fast_retransmit();
  // The original was only delayed: everything is acked, then the retransmission is D-SACKed.
  advance(10 * kMs);
  peer(F::ACK, P, S + 10 * M);
  EXPECT_FALSE(conn->in_recovery());
  peer_sack(S + 10 * M, {{S, S + M}});
  EXPECT_EQ(conn->stats().dsacks_received, 1u);
  EXPECT_EQ(conn->stats().spurious_retransmits, 1u);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_GE(conn->cwnd(), cwnd_before);  // Linux tcp_undo_cwnd_reduction()
}

TEST_F(DsackSender, DsackDuringRecoveryEndsItAndRestoresTheWindow) {
  spurious_fast_retransmit();
  advance(10 * kMs);
  // The D-SACK is inside the second (SACK) block: RFC 2883 4 case 2.
  peer_sack(S, {{S, S + M}, {S, S + 4 * M}});
  EXPECT_EQ(conn->stats().spurious_retransmits, 1u);
  EXPECT_FALSE(conn->in_recovery());
  EXPECT_GE(conn->cwnd(), cwnd_before);
  EXPECT_EQ(conn->rack().reo_wnd_mult(), 2u);  // RFC 8985 6.2 step 4
}

TEST_F(DsackSender, DsackOfOriginalDataIsNotCountedAsSpuriousRetransmission) {
  establish_sack();
  app_send(bytes(3 * M));
  env.out.clear();
  advance(50 * kMs);
  peer_sack(S + 3 * M, {{S, S + M}});  // the network duplicated a segment
  EXPECT_EQ(conn->stats().dsacks_received, 1u);
  EXPECT_EQ(conn->stats().spurious_retransmits, 0u);
  EXPECT_EQ(conn->stats().undos, 0u);
}

TEST_F(DsackSender, DsackIsNotADuplicateAck) {
  Config c = base_config();
  c.sack = true;
  c.rack = false;  // loss by DupThresh only
  make(c);
  establish_sack();
  app_send(bytes(10 * M));
  env.out.clear();
  advance(50 * kMs);
  peer(F::ACK, P, S + M);
  for (int i = 0; i < 3; ++i) peer_sack(S + M, {{S, S + M}});
  EXPECT_FALSE(conn->in_recovery());
  expect_none();
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
