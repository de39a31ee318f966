// Closing: RFC 9293 3.6 (figures 12-14), 3.10.4, 3.10.7.4 "eighth", TIME-WAIT, half-close.
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

class Close : public TcpTest {};

constexpr uint32_t S = kIss + 1;      // our first data sequence number
constexpr uint32_t P = kPeerIss + 1;  // the peer's

TEST_F(Close, ActiveCloseFinWait1ToFinWait2ToTimeWait) {
  establish_passive();
  conn->close(now);
  EXPECT_EQ(conn->state(), State::kFinWait1);
  expect(F::FIN | F::ACK, S, P);
  peer(F::ACK, P, S + 1);
  EXPECT_EQ(conn->state(), State::kFinWait2);
  expect_none();
  peer(F::FIN | F::ACK, P, S + 1);
  EXPECT_EQ(conn->state(), State::kTimeWait);
  expect(F::ACK, S + 1, P + 1);
  EXPECT_EQ(env.peer_closed, 1);
  EXPECT_FALSE(env.closed);
}

TEST_F(Close, TimeWaitLastsTwoMslThenCloses) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S + 1);
  EXPECT_EQ(conn->state(), State::kTimeWait);
  expect(F::ACK, S + 1, P + 1);
  EXPECT_EQ(conn->next_deadline(), now + 60 * kSec);
  advance(60 * kSec - 1);
  EXPECT_EQ(conn->state(), State::kTimeWait);
  advance(1);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kNormal);
  expect_none();
}

TEST_F(Close, TimeWaitDurationIsConfigurable) {
  Config c = base_config();
  c.time_wait_us = 2 * kSec;
  make(c);
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S + 1);
  expect(F::ACK, S + 1, P + 1);
  advance(2 * kSec);
  EXPECT_EQ(conn->state(), State::kClosed);
}

TEST_F(Close, FinAndAckOfOurFinTogetherGoStraightToTimeWait) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S + 1);
  EXPECT_EQ(conn->state(), State::kTimeWait);
  expect(F::ACK, S + 1, P + 1);
}

TEST_F(Close, TimeWaitRetransmittedFinIsAckedAndRestartsTimer) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S + 1);
  expect(F::ACK, S + 1, P + 1);
  advance(30 * kSec);
  peer(F::FIN | F::ACK, P, S + 1);
  expect(F::ACK, S + 1, P + 1);
  EXPECT_EQ(conn->next_deadline(), now + 60 * kSec);
  advance(59 * kSec);
  EXPECT_EQ(conn->state(), State::kTimeWait);
}

TEST_F(Close, PassiveCloseCloseWaitThenLastAckThenClosed) {
  establish_passive();
  peer(F::FIN | F::ACK, P, S);
  EXPECT_EQ(conn->state(), State::kCloseWait);
  EXPECT_EQ(env.peer_closed, 1);
  expect(F::ACK, S, P + 1);
  conn->close(now);
  EXPECT_EQ(conn->state(), State::kLastAck);
  expect(F::FIN | F::ACK, S, P + 1);
  peer(F::ACK, P + 1, S + 1);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kNormal);
  expect_none();
}

TEST_F(Close, SimultaneousCloseGoesThroughClosing) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S);  // the peer's FIN crossed ours: it does not ack our FIN
  EXPECT_EQ(conn->state(), State::kClosing);
  expect(F::ACK, S + 1, P + 1);
  peer(F::ACK, P + 1, S + 1);
  EXPECT_EQ(conn->state(), State::kTimeWait);
  expect_none();
}

TEST_F(Close, LastAckRetransmitsFinOnTimeout) {
  establish_passive();
  peer(F::FIN | F::ACK, P, S);
  expect(F::ACK, S, P + 1);
  conn->close(now);
  expect(F::FIN | F::ACK, S, P + 1);
  EXPECT_EQ(conn->rto_us(), 200 * kMs);  // handshake RTT sample of 0: the minimum RTO
  advance(200 * kMs);
  expect(F::FIN | F::ACK, S, P + 1);
  expect_none();
  EXPECT_EQ(conn->stats().retransmits, 1u);
}

TEST_F(Close, FinWait1RetransmitsFin) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  advance(200 * kMs);
  expect(F::FIN | F::ACK, S, P);
  advance(400 * kMs - 1);
  expect_none();
  advance(1);
  expect(F::FIN | F::ACK, S, P);
  peer(F::ACK, P, S + 1);
  EXPECT_EQ(conn->state(), State::kFinWait2);
  EXPECT_EQ(conn->next_deadline(), now + 60 * kSec);  // FIN-WAIT-2 timeout after close()
}

TEST_F(Close, FinAfterQueuedDataRidesOnLastSegment) {
  establish_passive();
  app_send("abc");
  expect(F::ACK | F::PSH, S, P, -1, 3);
  app_send("def");  // Nagle holds it: "abc" is unacked
  expect_none();
  // Linux tcp_send_fin() pushes with Nagle off: the tail goes out with the FIN.
  conn->close(now);
  expect(F::ACK | F::PSH | F::FIN, S + 3, P, -1, 3);
  peer(F::ACK, P, S + 7);
  EXPECT_EQ(conn->state(), State::kFinWait2);
}

TEST_F(Close, HalfCloseKeepsReceiving) {
  establish_passive();
  conn->shutdown_write(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::ACK, P, S + 1);
  EXPECT_EQ(conn->state(), State::kFinWait2);
  peer(F::ACK | F::PSH, P, S + 1, "still here");
  EXPECT_EQ(env.received, "still here");
  EXPECT_EQ(conn->next_deadline(), now + 40 * kMs);  // delayed ACK; no FIN-WAIT-2 timeout
  advance(40 * kMs);
  expect(F::ACK, S + 1, P + 10);
}

TEST_F(Close, PeerHalfCloseWeKeepSending) {
  establish_passive();
  peer(F::FIN | F::ACK, P, S);
  expect(F::ACK, S, P + 1);
  EXPECT_EQ(app_send("reply"), 5u);
  expect(F::ACK | F::PSH, S, P + 1, -1, 5);
  peer(F::ACK, P + 1, S + 5);
  EXPECT_EQ(conn->state(), State::kCloseWait);
  conn->close(now);
  expect(F::FIN | F::ACK, S + 5, P + 1);
}

TEST_F(Close, SendAfterCloseIsRefused) {
  establish_passive();
  conn->close(now);
  EXPECT_EQ(app_send("x"), 0u);
}

TEST_F(Close, CloseWithUnreadDataSendsRst) {
  establish_passive();
  env.consume_limit = 0;
  peer(F::ACK | F::PSH, P, S, "unread");
  EXPECT_EQ(conn->readable(), 6u);
  env.out.clear();
  conn->close(now);
  expect(F::RST | F::ACK, S, P + 6);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kAborted);
}

TEST_F(Close, DataAfterCloseGetsRst) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::ACK, P, S + 1, "late");
  expect(F::RST, S + 1, 0);
  EXPECT_EQ(conn->state(), State::kClosed);
}

TEST_F(Close, FinWait2TimesOutAfterClose) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::ACK, P, S + 1);
  EXPECT_EQ(conn->state(), State::kFinWait2);
  advance(60 * kSec);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kTimeout);
}

TEST_F(Close, OutOfOrderFinIsHeldUntilTheGapFills) {
  establish_passive();
  peer(F::ACK | F::FIN, P + 3, S, "def");
  expect(F::ACK, S, P);
  EXPECT_EQ(conn->state(), State::kEstablished);
  peer(F::ACK, P, S, "abc");
  EXPECT_EQ(env.received, "abcdef");
  EXPECT_EQ(conn->state(), State::kCloseWait);
  expect(F::ACK, S, P + 7);
}

TEST_F(Close, TimeWaitNewerSynReopens) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S + 1);
  expect(F::ACK, S + 1, P + 1);
  EXPECT_EQ(peer_opt(F::SYN, P + 1000, 0, opts_syn()), Disposition::kReopen);
  EXPECT_EQ(conn->state(), State::kClosed);
  expect_none();
}

TEST_F(Close, TimeWaitOldSynGetsAck) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S + 1);
  expect(F::ACK, S + 1, P + 1);
  EXPECT_EQ(peer_opt(F::SYN, P - 100, 0, opts_syn()), Disposition::kKeep);
  expect(F::ACK, S + 1, P + 1);  // RFC 5961 4.2 challenge ACK
  EXPECT_EQ(conn->state(), State::kTimeWait);
}

TEST_F(Close, DataInCloseWaitIsIgnored) {
  establish_passive();
  peer(F::FIN | F::ACK, P, S);
  expect(F::ACK, S, P + 1);
  peer(F::ACK, P + 1, S, "bogus");
  EXPECT_TRUE(env.received.empty());
  EXPECT_EQ(conn->state(), State::kCloseWait);
}

TEST_F(Close, ActiveOpenThenFullCloseSequence) {
  establish_active();
  app_send("GET /");
  expect(F::ACK | F::PSH, S, P, -1, 5);
  peer(F::ACK | F::PSH, P, S + 5, "200 OK");
  conn->close(now);  // "200 OK" was consumed by on_data, nothing unread
  expect(F::FIN | F::ACK, S + 5, P + 6);
  peer(F::FIN | F::ACK, P + 6, S + 6);
  expect(F::ACK, S + 6, P + 7);
  EXPECT_EQ(conn->state(), State::kTimeWait);
}

TEST_F(Close, AbortSendsRstAndCloses) {
  establish_passive();
  conn->abort(now);
  expect(F::RST | F::ACK, S, P);
  EXPECT_EQ(env.closed, CloseReason::kAborted);
  EXPECT_EQ(conn->next_deadline(), kNever);
}

TEST_F(Close, AbortInTimeWaitSendsNothing) {
  establish_passive();
  conn->close(now);
  expect(F::FIN | F::ACK, S, P);
  peer(F::FIN | F::ACK, P, S + 1);
  expect(F::ACK, S + 1, P + 1);
  conn->abort(now);
  expect_none();
  EXPECT_EQ(conn->state(), State::kClosed);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
