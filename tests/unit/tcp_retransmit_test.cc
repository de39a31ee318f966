// Retransmission: RTO (RFC 6298), Karn, exponential backoff, give-up; fast retransmit and
// NewReno recovery (RFC 5681 3.2, RFC 6582).
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

class Retransmit : public TcpTest {
 protected:
  // The window arithmetic of RFC 5681 / RFC 6582 (CUBIC, the default, cuts by 0.7 instead:
  // tcp_cubic_test.cc).
  void make_newreno() {
    Config c = base_config();
    c.cc = CcAlgo::kNewReno;
    make(c);
  }
};

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;

TEST_F(Retransmit, RtoRetransmitsFirstUnackedSegment) {
  make_newreno();
  establish_passive();
  app_send(bytes(3000));
  env.out.clear();
  advance(200 * kMs);
  expect(F::ACK, S, P, -1, 1460);
  expect_none();  // cwnd is one segment after a timeout
  EXPECT_EQ(conn->cwnd(), 1460u);
  EXPECT_EQ(conn->ssthresh(), 2920u);  // max(FlightSize / 2, 2 * MSS)
  EXPECT_EQ(conn->stats().retransmits, 1u);
}

TEST_F(Retransmit, RtoBacksOffExponentially) {
  establish_passive();
  app_send("x");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  uint64_t rto = 200 * kMs;
  for (int i = 0; i < 5; ++i) {
    advance(rto - 1);
    expect_none();
    advance(1);
    expect(F::ACK | F::PSH, S, P, -1, 1);
    rto *= 2;
  }
}

TEST_F(Retransmit, RtoIsCappedAtMax) {
  Config c = base_config();
  c.rto_max_us = 1 * kSec;
  make(c);
  establish_passive();
  app_send("x");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  advance(200 * kMs);
  advance(400 * kMs);
  advance(800 * kMs);
  env.out.clear();
  advance(1 * kSec);
  expect(F::ACK | F::PSH, S, P, -1, 1);
  advance(1 * kSec);
  expect(F::ACK | F::PSH, S, P, -1, 1);
}

TEST_F(Retransmit, GivesUpAfterRetriesWithTimeoutAndNoRst) {
  Config c = base_config();
  c.data_retries = 3;
  make(c);
  establish_passive();
  app_send("x");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  advance(200 * kMs);
  advance(400 * kMs);
  advance(800 * kMs);
  env.out.clear();
  advance(1600 * kMs);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kTimeout);
  expect_none();
}

TEST_F(Retransmit, AckAfterRtoResumesWithSlowStart) {
  establish_passive();
  app_send(bytes(4380));
  env.out.clear();
  advance(200 * kMs);
  expect(F::ACK, S, P, -1, 1460);
  peer(F::ACK, P, S + 1460);
  // cwnd 1460 + 1460: the next two segments go (go-back-N retransmission of the rest)
  expect(F::ACK, S + 1460, P, -1, 1460);
  expect(F::ACK | F::PSH, S + 2920, P, -1, 1460);
  EXPECT_EQ(conn->stats().retransmits, 3u);
}

TEST_F(Retransmit, RttSampleUpdatesRto) {
  establish_passive();
  app_send("x");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  advance(100 * kMs);
  peer(F::ACK, P, S + 1);
  // First sample was 0 (handshake); second 100 ms: RTTVAR = 3/4*0 + 1/4*100 = 25,
  // SRTT = 7/8*0 + 100/8 = 12.5 ms; RTO = 12.5 + 100 = 112.5 -> min 200 ms.
  EXPECT_EQ(conn->rtt().srtt_us(), 12500u);
  EXPECT_EQ(conn->rtt().rttvar_us(), 25000u);
  EXPECT_EQ(conn->rto_us(), 200 * kMs);
}

TEST_F(Retransmit, KarnIgnoresAckOfRetransmittedSegment) {
  establish_passive();
  app_send("x");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  advance(200 * kMs);
  expect(F::ACK | F::PSH, S, P, -1, 1);
  uint64_t srtt = conn->rtt().srtt_us();
  advance(50 * kMs);
  peer(F::ACK, P, S + 1);
  EXPECT_EQ(conn->rtt().srtt_us(), srtt);  // no sample from an ambiguous ACK
  EXPECT_EQ(conn->rto_us(), 400 * kMs);    // the backed-off RTO stays (RFC 6298 5.7)
}

TEST_F(Retransmit, TimerRestartsOnNewAckAndStopsWhenAllAcked) {
  establish_passive();
  app_send(bytes(2920));
  env.out.clear();
  advance(150 * kMs);
  peer(F::ACK, P, S + 1460);
  EXPECT_EQ(conn->next_deadline(), now + conn->rto_us());
  peer(F::ACK, P, S + 2920);
  EXPECT_EQ(conn->next_deadline(), kNever);
}

TEST_F(Retransmit, ThreeDupAcksTriggerFastRetransmit) {
  make_newreno();
  establish_passive();
  app_send(bytes(14600));
  env.out.clear();
  peer(F::ACK, P, S);
  peer(F::ACK, P, S);
  expect_none();
  peer(F::ACK, P, S);
  expect(F::ACK, S, P, -1, 1460);
  EXPECT_TRUE(conn->in_recovery());
  EXPECT_EQ(conn->ssthresh(), 7300u);
  EXPECT_EQ(conn->cwnd(), 7300u + 3 * 1460u);
  EXPECT_EQ(conn->stats().fast_retransmits, 1u);
}

TEST_F(Retransmit, DupAckWithDataOrWindowChangeIsNotCounted) {
  establish_passive();
  app_send(bytes(14600));
  env.out.clear();
  peer(F::ACK, P, S);
  peer(F::ACK, P, S, {}, 60000);  // window changed
  peer(F::ACK, P, S, "d");        // carries data
  expect_none();                  // no fast retransmit (and "d" gets a delayed ACK)
  EXPECT_FALSE(conn->in_recovery());
}

TEST_F(Retransmit, DupAcksInRecoveryInflateWindowAndSendNewData) {
  make_newreno();
  establish_passive();
  app_send(bytes(22000));
  env.out.clear();
  // RFC 3042 limited transmit: the first two duplicates each send one new segment.
  peer(F::ACK, P, S);
  expect(F::ACK, S + 14600, P, -1, 1460);
  peer(F::ACK, P, S);
  expect(F::ACK, S + 16060, P, -1, 1460);
  peer(F::ACK, P, S);
  expect(F::ACK, S, P, -1, 1460);
  // FlightSize 17520: ssthresh 8760, cwnd = 8760 + 4380 = 13140. Each dup ACK adds 1460;
  // a new segment fits once cwnd exceeds the flight by a segment (18980).
  for (int i = 0; i < 3; ++i) peer(F::ACK, P, S);
  expect_none();
  peer(F::ACK, P, S);
  expect(F::ACK, S + 17520, P, -1, 1460);
  expect_none();
}

TEST_F(Retransmit, PartialAckRetransmitsNextHoleAndStaysInRecovery) {
  establish_passive();
  app_send(bytes(14600));
  env.out.clear();
  for (int i = 0; i < 3; ++i) peer(F::ACK, P, S);
  expect(F::ACK, S, P, -1, 1460);
  peer(F::ACK, P, S + 2920);  // partial: recover is S + 14600
  expect(F::ACK, S + 2920, P, -1, 1460);
  EXPECT_TRUE(conn->in_recovery());
}

TEST_F(Retransmit, FullAckExitsRecoveryWithDeflatedWindow) {
  establish_passive();
  app_send(bytes(14600));
  env.out.clear();
  for (int i = 0; i < 3; ++i) peer(F::ACK, P, S);
  expect(F::ACK, S, P, -1, 1460);
  peer(F::ACK, P, S + 14600);
  EXPECT_FALSE(conn->in_recovery());
  EXPECT_EQ(conn->cwnd(), 1460u * 2);  // min(ssthresh, max(FlightSize=0, MSS) + MSS)
}

TEST_F(Retransmit, NoFastRetransmitAfterRtoUntilRecoverIsPassed) {
  establish_passive();
  app_send(bytes(14600));
  env.out.clear();
  advance(200 * kMs);
  expect(F::ACK, S, P, -1, 1460);
  for (int i = 0; i < 3; ++i) peer(F::ACK, P, S);
  expect_none();  // RFC 6582 4.1: these duplicates belong to the pre-timeout flight
  EXPECT_FALSE(conn->in_recovery());
}

TEST_F(Retransmit, FinIsRetransmittedWithLastData) {
  establish_passive();
  app_send("abc");
  conn->close(now);
  expect(F::ACK | F::PSH, S, P, -1, 3);
  expect(F::ACK | F::FIN, S + 3, P);
  advance(200 * kMs);
  expect(F::ACK | F::PSH | F::FIN, S, P, -1, 3);
}

TEST_F(Retransmit, RetransmitCounterResetsOnProgress) {
  Config c = base_config();
  c.data_retries = 2;
  make(c);
  establish_passive();
  app_send(bytes(2920));
  env.out.clear();
  advance(200 * kMs);
  advance(400 * kMs);
  peer(F::ACK, P, S + 1460);
  advance(conn->next_deadline() - now);
  advance(conn->next_deadline() - now);
  EXPECT_EQ(conn->state(), State::kEstablished);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
