// Opening handshakes: RFC 9293 3.5 and 3.10.7.2-3.10.7.4, options negotiated on the SYN.
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

class Handshake : public TcpTest {};

TEST_F(Handshake, PassiveOpenSendsSynAckThenEstablishes) {
  make();
  conn->listen(Seq(kIss));
  EXPECT_EQ(conn->state(), State::kListen);
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  EXPECT_EQ(conn->state(), State::kSynReceived);
  Sent s = expect(F::SYN | F::ACK, kIss, kPeerIss + 1, 65535);
  EXPECT_EQ(s.h.opt.mss, std::optional<uint16_t>(1460));
  EXPECT_FALSE(s.h.opt.wscale);  // not offered by the SYN
  EXPECT_FALSE(s.h.opt.ts);
  EXPECT_FALSE(s.h.opt.sack_permitted);
  EXPECT_EQ(env.established, 0);
  peer(F::ACK, kPeerIss + 1, kIss + 1);
  EXPECT_EQ(conn->state(), State::kEstablished);
  EXPECT_EQ(env.established, 1);
  expect_none();
}

TEST_F(Handshake, ActiveOpenSendsSynWithAllEnabledOptions) {
  Config c = base_config();
  c.window_scaling = c.timestamps = c.sack = true;
  c.recv_buffer = 1 << 20;
  make(c);
  conn->connect(Seq(kIss), now);
  EXPECT_EQ(conn->state(), State::kSynSent);
  Sent s = expect(F::SYN, kIss, 0, 65535);
  EXPECT_EQ(s.h.opt.mss, std::optional<uint16_t>(1460));
  EXPECT_EQ(s.h.opt.wscale, std::optional<uint8_t>(5));  // 65535 << 5 >= 1 MiB
  EXPECT_TRUE(s.h.opt.sack_permitted);
  ASSERT_TRUE(s.h.opt.ts);
  EXPECT_EQ(s.h.opt.ts->val, static_cast<uint32_t>(now / 1000));
  EXPECT_EQ(s.h.opt.ts->ecr, 0u);
}

TEST_F(Handshake, ActiveOpenEstablishesOnSynAckAndAcks) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  peer_opt(F::SYN | F::ACK, kPeerIss, kIss + 1, opts_syn(1460), {}, 30000);
  EXPECT_EQ(conn->state(), State::kEstablished);
  EXPECT_EQ(env.established, 1);
  expect(F::ACK, kIss + 1, kPeerIss + 1, 65535);
  EXPECT_EQ(conn->snd_wnd(), 30000u);  // RFC 7323 2.2: SYN window unscaled
}

TEST_F(Handshake, SynSentBadAckGetsResetAndStays) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  peer_opt(F::SYN | F::ACK, kPeerIss, kIss + 5, opts_syn());  // acks more than we sent
  expect(F::RST, kIss + 5, 0);
  EXPECT_EQ(conn->state(), State::kSynSent);
  peer_opt(F::ACK, kPeerIss, kIss, opts_none());  // ACK <= ISS
  expect(F::RST, kIss, 0);
  EXPECT_EQ(conn->state(), State::kSynSent);
}

TEST_F(Handshake, SynSentRstWithAcceptableAckRefusesConnection) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  peer(F::RST | F::ACK, 0, kIss + 1);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kReset);
  expect_none();
}

TEST_F(Handshake, SynSentRstWithoutAckIsIgnored) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  peer(F::RST, 0, 0);
  EXPECT_EQ(conn->state(), State::kSynSent);
  expect_none();
}

TEST_F(Handshake, SynSentRstWithBadAckIsIgnored) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  peer(F::RST | F::ACK, 0, kIss + 7);
  EXPECT_EQ(conn->state(), State::kSynSent);
  expect_none();
}

TEST_F(Handshake, SynSentSegmentWithoutSynOrRstIsDropped) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  peer(F::ACK, kPeerIss, kIss + 1);
  EXPECT_EQ(conn->state(), State::kSynSent);
  expect_none();
}

TEST_F(Handshake, SimultaneousOpenGoesThroughSynReceived) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  EXPECT_EQ(conn->state(), State::kSynReceived);
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  peer_opt(F::SYN | F::ACK, kPeerIss, kIss + 1, opts_syn(1460));
  // The SYN,ACK's SYN is old (seq < RCV.NXT): an ACK is sent, and the ACK field is not yet
  // processed; the peer's own ACK completes it.
  peer(F::ACK, kPeerIss + 1, kIss + 1);
  EXPECT_EQ(conn->state(), State::kEstablished);
  EXPECT_EQ(env.established, 1);
}

TEST_F(Handshake, SimultaneousOpenEstablishesOnAck) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  peer(F::ACK, kPeerIss + 1, kIss + 1);
  EXPECT_EQ(conn->state(), State::kEstablished);
  expect_none();
}

TEST_F(Handshake, ListenIgnoresRst) {
  make();
  conn->listen(Seq(kIss));
  peer(F::RST, 10, 0);
  EXPECT_EQ(conn->state(), State::kListen);
  expect_none();
}

TEST_F(Handshake, ListenAnswersAckWithRst) {
  make();
  conn->listen(Seq(kIss));
  peer(F::ACK, 10, 777);
  expect(F::RST, 777, 0);
  EXPECT_EQ(conn->state(), State::kListen);
}

TEST_F(Handshake, ListenDropsSegmentWithoutSynAckOrRst) {
  make();
  conn->listen(Seq(kIss));
  peer(0, 10, 0, "abc");
  EXPECT_EQ(conn->state(), State::kListen);
  expect_none();
}

TEST_F(Handshake, DataOnSynIsNotAcknowledged) {
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460), "early");
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  EXPECT_TRUE(env.received.empty());
}

TEST_F(Handshake, SynReceivedRetransmittedSynGetsSynAckAgain) {
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  EXPECT_EQ(conn->state(), State::kSynReceived);
}

TEST_F(Handshake, SynReceivedBadAckGetsRst) {
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  peer(F::ACK, kPeerIss + 1, kIss + 100);
  expect(F::RST, kIss + 100, 0);
  EXPECT_EQ(conn->state(), State::kSynReceived);
}

TEST_F(Handshake, SynReceivedExactRstCloses) {
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  peer(F::RST, kPeerIss + 1, 0);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kReset);
}

TEST_F(Handshake, SynReceivedAckWithDataEstablishesAndDelivers) {
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  peer(F::ACK | F::PSH, kPeerIss + 1, kIss + 1, "hello");
  EXPECT_EQ(conn->state(), State::kEstablished);
  EXPECT_EQ(env.received, "hello");
  EXPECT_EQ(conn->rcv_nxt().raw(), kPeerIss + 6);
}

TEST_F(Handshake, SynAckRetransmittedWithBackoffThenTimesOut) {
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  uint64_t rto = 1 * kSec;
  for (int i = 0; i < 5; ++i) {  // synack_retries = 5
    advance(rto - 1);
    expect_none();
    advance(1);
    expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
    rto *= 2;
  }
  advance(rto);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kTimeout);
  expect_none();
}

TEST_F(Handshake, SynRetransmittedSixTimesThenTimesOut) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  uint64_t rto = 1 * kSec;
  for (int i = 0; i < 6; ++i) {
    advance(rto);
    expect(F::SYN, kIss, 0);
    rto *= 2;
  }
  advance(rto);
  EXPECT_EQ(env.closed, CloseReason::kTimeout);
  EXPECT_EQ(conn->stats().retransmits, 6u);
}

TEST_F(Handshake, RtoFallsBackToThreeSecondsAfterSynLossWithoutSample) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  advance(1 * kSec);
  expect(F::SYN, kIss, 0);
  peer_opt(F::SYN | F::ACK, kPeerIss, kIss + 1, opts_syn(1460));
  expect(F::ACK, kIss + 1, kPeerIss + 1);
  EXPECT_FALSE(conn->rtt().has_sample());  // Karn: the retransmitted SYN is not timed
  EXPECT_EQ(conn->rto_us(), 3 * kSec);     // RFC 6298 5.7
}

TEST_F(Handshake, SynAckRttSampleSetsRto) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  advance(100 * kMs);
  peer_opt(F::SYN | F::ACK, kPeerIss, kIss + 1, opts_syn(1460));
  expect(F::ACK, kIss + 1, kPeerIss + 1);
  EXPECT_EQ(conn->rtt().srtt_us(), 100 * kMs);
  EXPECT_EQ(conn->rto_us(), 300 * kMs);  // 100 + 4 * 50
}

TEST_F(Handshake, PeerMssHonouredAndDefaultIs536) {
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1000));
  EXPECT_EQ(conn->snd_mss(), 1000u);
  conn.reset();
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(std::nullopt));
  EXPECT_EQ(conn->snd_mss(), 536u);  // RFC 9293 3.7.1
}

TEST_F(Handshake, OurMssBoundsTheSendMss) {
  Config c = base_config();
  c.mss = 1200;
  make(c);
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(9000));
  Sent s = expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  EXPECT_EQ(s.h.opt.mss, std::optional<uint16_t>(1200));
  EXPECT_EQ(conn->snd_mss(), 1200u);
}

TEST_F(Handshake, SynAckEchoesOnlyOfferedOptions) {
  Config c = base_config();
  c.window_scaling = c.timestamps = c.sack = true;
  c.recv_buffer = 1 << 20;
  make(c);
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460, 7, true, Timestamps{4000, 0}));
  Sent s = expect(F::SYN | F::ACK, kIss, kPeerIss + 1, 65535);
  EXPECT_EQ(s.h.opt.wscale, std::optional<uint8_t>(5));
  EXPECT_TRUE(s.h.opt.sack_permitted);
  ASSERT_TRUE(s.h.opt.ts);
  EXPECT_EQ(s.h.opt.ts->ecr, 4000u);
  EXPECT_TRUE(conn->ts_enabled());
  EXPECT_TRUE(conn->sack_enabled());
  EXPECT_EQ(conn->snd_mss(), 1448u);  // 1460 less the 12 bytes of timestamps
  EXPECT_EQ(conn->snd_wscale(), 7);
  EXPECT_EQ(conn->rcv_wscale(), 5);
}

TEST_F(Handshake, WindowScaleNotUsedUnlessBothOffer) {
  Config c = base_config();
  c.window_scaling = true;
  c.recv_buffer = 1 << 20;
  make(c);
  conn->connect(Seq(kIss), now);
  Sent syn = expect(F::SYN, kIss, 0);
  EXPECT_TRUE(syn.h.opt.wscale);
  peer_opt(F::SYN | F::ACK, kPeerIss, kIss + 1, opts_syn(1460));
  EXPECT_EQ(conn->snd_wscale(), 0);
  EXPECT_EQ(conn->rcv_wscale(), 0);
  Sent a = expect(F::ACK, kIss + 1, kPeerIss + 1);
  EXPECT_EQ(a.h.window, 65535);  // 1 MiB free but unscaled: clamped
}

TEST_F(Handshake, PeerWindowScaleAbove14IsClamped) {
  Config c = base_config();
  c.window_scaling = true;
  make(c);
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460, 20));
  EXPECT_EQ(conn->snd_wscale(), 14);  // RFC 7323 2.3
}

TEST_F(Handshake, DataQueuedBeforeEstablishedIsSentAfter) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  EXPECT_EQ(app_send("early"), 5u);
  expect_none();
  peer_opt(F::SYN | F::ACK, kPeerIss, kIss + 1, opts_syn(1460));
  expect(F::ACK | F::PSH, kIss + 1, kPeerIss + 1, -1, 5);
}

TEST_F(Handshake, CloseInSynSentDeletesTheConnection) {
  make();
  conn->connect(Seq(kIss), now);
  expect(F::SYN, kIss, 0);
  conn->close(now);
  EXPECT_EQ(conn->state(), State::kClosed);
  expect_none();
}

TEST_F(Handshake, CloseInSynReceivedSendsFinOnceEstablished) {
  make();
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  conn->shutdown_write(now);
  expect_none();
  peer(F::ACK, kPeerIss + 1, kIss + 1);
  EXPECT_EQ(conn->state(), State::kFinWait1);
  expect(F::FIN | F::ACK, kIss + 1, kPeerIss + 1);
}

TEST_F(Handshake, SegmentToClosedConnectionGetsRst) {
  make();
  peer(F::ACK, 10, 20);
  expect(F::RST, 20, 0);
  peer(F::SYN, 10, 0, "ab");
  expect(F::RST | F::ACK, 0, 13);
  peer(F::RST, 10, 0);
  expect_none();
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
