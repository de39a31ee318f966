// Send path: segmentation, Nagle (RFC 9293 3.7.4), sender SWS (RFC 1122 4.2.3.4), initial and
// slow-start windows (RFC 6928, RFC 5681 3.1), flow control, persist probes (RFC 9293 3.8.6.1).
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

class Send : public TcpTest {};

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;

TEST_F(Send, DataIsSegmentedByMssWithPshOnTheLast) {
  establish_passive();
  EXPECT_EQ(app_send(bytes(3000)), 3000u);
  expect(F::ACK, S, P, 65535, 1460);
  expect(F::ACK, S + 1460, P, 65535, 1460);
  // Nagle with Minshall's rule (Linux): no small segment is outstanding, so the tail goes.
  expect(F::ACK | F::PSH, S + 2920, P, 65535, 80);
  expect_none();
  EXPECT_EQ(conn->stats().bytes_out, 3000u);
}

TEST_F(Send, InitialWindowIsTenSegments) {
  establish_passive();
  app_send(bytes(20000));
  for (uint32_t i = 0; i < 10; ++i) expect(F::ACK, S + 1460 * i, P, -1, 1460);
  expect_none();
  EXPECT_EQ(conn->cwnd(), 14600u);
}

TEST_F(Send, SlowStartGrowsByAckedBytes) {
  establish_passive();
  app_send(bytes(40000));
  env.out.clear();
  peer(F::ACK, P, S + 2920);  // two segments acked: cwnd += 2 * MSS
  EXPECT_EQ(conn->cwnd(), 14600u + 2920u);
  // 2 freed + 2 new = 4 segments go out
  for (uint32_t i = 10; i < 14; ++i) expect(F::ACK, S + 1460 * i, P, -1, 1460);
  expect_none();
}

TEST_F(Send, NagleHoldsSmallSegmentWhileDataIsUnacked) {
  establish_passive();
  app_send("a");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  app_send("b");
  app_send("c");
  expect_none();
  peer(F::ACK, P, S + 1);
  expect(F::ACK | F::PSH, S + 1, P, -1, 2);
}

TEST_F(Send, NodelaySendsSmallSegmentsAtOnce) {
  Config c = base_config();
  c.nodelay = true;
  make(c);
  establish_passive();
  app_send("a");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  app_send("b");
  expect(F::ACK | F::PSH, S + 1, P, -1, 1);
}

TEST_F(Send, NagleDoesNotHoldFullSegments) {
  establish_passive();
  app_send("a");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  app_send(bytes(1500));
  expect(F::ACK, S + 1, P, -1, 1460);
  expect_none();  // the 40-byte tail waits for the ACK
}

TEST_F(Send, PeerWindowLimitsData) {
  establish_passive(2000);
  app_send(bytes(5000));
  expect(F::ACK, S, P, -1, 1460);
  // 540 bytes fit: less than half the largest window (65535 in the SYN): SWS holds them
  expect_none();
  peer(F::ACK, P, S + 1460, {}, 2000);
  expect(F::ACK, S + 1460, P, -1, 1460);
  expect_none();
}

TEST_F(Send, SenderSwsHoldsSmallWindowLimitedPieces) {
  establish_passive(3000);
  app_send(bytes(5000));
  expect(F::ACK, S, P, -1, 1460);
  expect(F::ACK, S + 1460, P, -1, 1460);
  expect_none();  // 80 bytes fit, far below half the largest window
  peer(F::ACK, P, S + 2920, {}, 1600);
  expect(F::ACK, S + 2920, P, -1, 1460);
  expect_none();  // 140 bytes: still a silly window
  peer(F::ACK, P, S + 4380, {}, 40000);
  expect(F::ACK | F::PSH, S + 4380, P, -1, 620);
}

TEST_F(Send, SendBufferFullRefusesAndSignalsWritable) {
  Config c = base_config();
  c.send_buffer = 4000;
  make(c);
  establish_passive();
  EXPECT_EQ(app_send(bytes(5000)), 4000u);
  EXPECT_EQ(conn->send_space(), 0u);
  env.out.clear();
  EXPECT_EQ(env.writable, 0);
  peer(F::ACK, P, S + 1460);
  EXPECT_EQ(env.writable, 1);
  EXPECT_EQ(conn->send_space(), 1460u);
}

TEST_F(Send, ZeroWindowStartsPersistProbesWithBackoff) {
  establish_passive(0);
  app_send("data");
  expect_none();
  // RTO after the handshake is 200 ms (zero RTT sample): probes at 200, +400, +800 ms.
  advance(200 * kMs);
  expect(F::ACK, S - 1, P);  // Linux-style probe: old sequence number, no data
  advance(400 * kMs - 1);
  expect_none();
  advance(1);
  expect(F::ACK, S - 1, P);
  advance(800 * kMs);
  expect(F::ACK, S - 1, P);
  EXPECT_EQ(env.closed, std::nullopt);
}

TEST_F(Send, WindowUpdateEndsPersistAndSendsData) {
  establish_passive(0);
  app_send("data");
  advance(200 * kMs);
  expect(F::ACK, S - 1, P);
  peer(F::ACK, P, S, {}, 1000);
  expect(F::ACK | F::PSH, S, P, -1, 4);
  peer(F::ACK, P, S + 4, {}, 1000);
  EXPECT_EQ(conn->next_deadline(), kNever);
}

TEST_F(Send, PersistBackoffIsCappedAtMaxRto) {
  Config c = base_config();
  c.rto_max_us = 1 * kSec;
  make(c);
  establish_passive(0);
  app_send("x");
  advance(200 * kMs);
  expect(F::ACK, S - 1, P);
  advance(400 * kMs);
  expect(F::ACK, S - 1, P);
  advance(800 * kMs);
  expect(F::ACK, S - 1, P);
  advance(1 * kSec);
  expect(F::ACK, S - 1, P);
  advance(1 * kSec);
  expect(F::ACK, S - 1, P);
}

TEST_F(Send, PeerAnsweringProbesKeepsConnectionOpen) {
  Config c = base_config();
  c.data_retries = 2;
  make(c);
  establish_passive(0);
  app_send("x");
  for (int i = 0; i < 6; ++i) {
    advance(conn->next_deadline() - now);
    expect(F::ACK, S - 1, P);
    peer(F::ACK, P, S, {}, 0);
  }
  EXPECT_EQ(conn->state(), State::kEstablished);
}

TEST_F(Send, SmallWindowOpeningIsUsedByPersistTimer) {
  establish_passive(0);
  app_send(bytes(100));
  peer(F::ACK, P, S, {}, 10);  // a 10-byte window: SWS says wait (10 < max window / 2? max=65535)
  expect_none();
  advance(conn->next_deadline() - now);
  expect(F::ACK, S, P, -1, 10);  // Linux tcp_write_wakeup(): send what fits
}

TEST_F(Send, WindowScaledPeerWindowIsShifted) {
  Config c = base_config();
  c.window_scaling = true;
  make(c);
  conn->listen(Seq(kIss));
  peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460, 2));
  expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
  peer(F::ACK, P, S, {}, 1000);
  EXPECT_EQ(conn->snd_wnd(), 4000u);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
