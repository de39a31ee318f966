// RST processing and RFC 5961 protections: RFC 9293 3.10.7, RFC 5961 3-5 and 7.
#include "proto/tcp/rst.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

class Rst : public TcpTest {};

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;

TEST_F(Rst, RstExactSequenceResetsConnection) {
  establish_passive();
  peer(F::RST, P, 0);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kReset);
  expect_none();
}

TEST_F(Rst, RstInWindowNotExactGetsChallengeAck) {
  establish_passive();
  peer(F::RST, P + 100, 0);
  EXPECT_EQ(conn->state(), State::kEstablished);
  expect(F::ACK, S, P);
  EXPECT_EQ(conn->stats().challenge_acks, 1u);
}

TEST_F(Rst, RstOutOfWindowIsSilentlyDropped) {
  establish_passive();
  peer(F::RST, P + 70000, 0);
  peer(F::RST, P - 1, 0);
  EXPECT_EQ(conn->state(), State::kEstablished);
  expect_none();
}

TEST_F(Rst, RstWithAckExactResets) {
  establish_passive();
  peer(F::RST | F::ACK, P, S);
  EXPECT_EQ(env.closed, CloseReason::kReset);
}

TEST_F(Rst, RstInCloseWaitResets) {
  establish_passive();
  peer(F::FIN | F::ACK, P, S);
  expect(F::ACK, S, P + 1);
  peer(F::RST, P + 1, 0);
  EXPECT_EQ(env.closed, CloseReason::kReset);
}

TEST_F(Rst, RstInTimeWaitClosesLikeLinux) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S + 1);
  expect(F::ACK, S + 1, P + 1);
  peer(F::RST, P + 1, 0);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kNormal);
}

TEST_F(Rst, RstInLastAckCloses) {
  establish_passive();
  peer(F::FIN | F::ACK, P, S);
  expect(F::ACK, S, P + 1);
  conn->close(now);
  expect(F::FIN | F::ACK, S, P + 1);
  peer(F::RST, P + 1, 0);
  EXPECT_EQ(conn->state(), State::kClosed);
}

TEST_F(Rst, SynInEstablishedGetsChallengeAck) {
  establish_passive();
  peer_opt(F::SYN, P + 5, 0, opts_syn());
  expect(F::ACK, S, P);
  EXPECT_EQ(conn->state(), State::kEstablished);
  peer_opt(F::SYN, P + 900000, 0, opts_syn());  // out of window too
  expect(F::ACK, S, P);
  EXPECT_EQ(conn->stats().challenge_acks, 2u);
}

TEST_F(Rst, SynAckInEstablishedGetsChallengeAck) {
  establish_passive();
  peer(F::SYN | F::ACK, kPeerIss, S);
  expect(F::ACK, S, P);
  EXPECT_EQ(conn->state(), State::kEstablished);
}

TEST_F(Rst, ChallengeAcksAreRateLimitedPerSecond) {
  Config c = base_config();
  c.challenge_ack_limit = 3;
  make(c);
  establish_passive();
  for (int i = 0; i < 5; ++i) peer(F::RST, P + 10 + i, 0);
  expect(F::ACK, S, P);
  expect(F::ACK, S, P);
  expect(F::ACK, S, P);
  expect_none();
  advance(1 * kSec);
  peer(F::RST, P + 10, 0);
  expect(F::ACK, S, P);
}

TEST_F(Rst, AckOfUnsentDataGetsAckAndIsDropped) {
  establish_passive();
  peer(F::ACK, P, S + 1000, "data");
  expect(F::ACK, S, P);
  EXPECT_TRUE(env.received.empty());  // RFC 9293: drop the segment
  EXPECT_EQ(conn->snd_una().raw(), S);
}

TEST_F(Rst, AckTooOldGetsChallengeAck) {
  establish_passive();
  app_send(bytes(1000));
  expect(F::ACK | F::PSH, S, P, -1, 1000);
  peer(F::ACK, P, S + 1000);
  // Acked bytes so far: 1001 (SYN + data). An ACK further back than that is invalid.
  peer(F::ACK, P, S - 5000, "zz");
  expect(F::ACK, S + 1000, P);
  EXPECT_TRUE(env.received.empty());
}

TEST_F(Rst, OldButAcceptableAckIsIgnoredAndTextProcessed) {
  establish_passive();
  app_send(bytes(1000));
  expect(F::ACK | F::PSH, S, P, -1, 1000);
  peer(F::ACK, P, S + 1000);
  peer(F::ACK | F::PSH, P, S + 500, "ok");  // stale ACK, within the window: ignored
  EXPECT_EQ(env.received, "ok");
  EXPECT_EQ(conn->snd_una().raw(), S + 1000);
}

TEST_F(Rst, OutOfWindowDataGetsDuplicateAck) {
  establish_passive();
  peer(F::ACK, P + 100000, S, "far");
  expect(F::ACK, S, P);
  peer(F::ACK, P - 10, S, "old");
  expect(F::ACK, S, P);
  EXPECT_TRUE(env.received.empty());
}

TEST_F(Rst, OutOfWindowPureAcksAreRateLimited) {
  establish_passive();
  peer(F::ACK, P + 100000, S);
  expect(F::ACK, S, P);
  peer(F::ACK, P + 100000, S);
  expect_none();  // Linux tcp_invalid_ratelimit: 500 ms
  advance(500 * kMs);
  peer(F::ACK, P + 100000, S);
  expect(F::ACK, S, P);
}

TEST_F(Rst, SegmentWithoutAckIsDropped) {
  establish_passive();
  peer(F::PSH, P, 0, "noack");
  EXPECT_TRUE(env.received.empty());
  expect_none();
}

TEST_F(Rst, KeepaliveGivesUpWithRst) {
  Config c = base_config();
  c.keepalive = true;
  c.keepalive_idle_us = 10 * kSec;
  c.keepalive_interval_us = 1 * kSec;
  c.keepalive_count = 2;
  make(c);
  establish_passive();
  advance(10 * kSec);
  expect(F::ACK, S - 1, P);
  advance(1 * kSec);
  expect(F::ACK, S - 1, P);
  advance(1 * kSec);
  expect(F::RST | F::ACK, S, P);
  EXPECT_EQ(env.closed, CloseReason::kTimeout);
}

TEST_F(Rst, ClosedPortAckGetsRstWithItsAckAsSeq) {
  TcpRepr in;
  in.src_port = 1234;
  in.dst_port = 80;
  in.seq = Seq(100);
  in.ack = Seq(555);
  in.flags = F::ACK;
  auto r = reset_for_closed(in, 10);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flags, F::RST);
  EXPECT_EQ(r->seq.raw(), 555u);
  EXPECT_EQ(r->src_port, 80);
  EXPECT_EQ(r->dst_port, 1234);
}

TEST_F(Rst, ClosedPortSynGetsRstAckCoveringSegment) {
  TcpRepr in;
  in.seq = Seq(100);
  in.flags = F::SYN | F::FIN;
  auto r = reset_for_closed(in, 10);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flags, F::RST | F::ACK);
  EXPECT_EQ(r->seq.raw(), 0u);
  EXPECT_EQ(r->ack.raw(), 112u);  // 10 bytes + SYN + FIN
}

TEST_F(Rst, ClosedPortNeverAnswersRst) {
  TcpRepr in;
  in.flags = F::RST | F::ACK;
  EXPECT_FALSE(reset_for_closed(in, 0));
}

TEST_F(Rst, ListenerAnswersOnlyAcks) {
  TcpRepr in;
  in.flags = F::ACK;
  in.ack = Seq(9);
  auto r = reset_for_listen(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flags, F::RST);
  EXPECT_EQ(r->seq.raw(), 9u);
  in.flags = F::RST | F::ACK;
  EXPECT_FALSE(reset_for_listen(in));
  in.flags = F::SYN;
  EXPECT_FALSE(reset_for_listen(in));
  in.flags = F::PSH;
  EXPECT_FALSE(reset_for_listen(in));
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
