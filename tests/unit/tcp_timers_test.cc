// Timers and deadlines (RFC 9293 3.8, 3.10.8), keepalive (RFC 1122 4.2.3.6), and robustness
// against arbitrary segment sequences.
#include <random>

#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

class Timers : public TcpTest {};

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;

TEST_F(Timers, IdleEstablishedConnectionHasNoDeadline) {
  establish_passive();
  EXPECT_EQ(conn->next_deadline(), kNever);
}

TEST_F(Timers, DelayedAckIsCancelledBySegmentCarryingAck) {
  establish_passive();
  peer(F::ACK, P, S, "q");
  EXPECT_EQ(conn->next_deadline(), now + 40 * kMs);
  app_send("r");
  expect(F::ACK | F::PSH, S, P + 1, -1, 1);  // piggybacked ACK
  EXPECT_EQ(conn->next_deadline(), now + conn->rto_us());
  advance(40 * kMs);
  expect_none();
}

TEST_F(Timers, DelayedAckTimeIsConfigurable) {
  Config c = base_config();
  c.delayed_ack_us = 10 * kMs;
  make(c);
  establish_passive();
  peer(F::ACK, P, S, "q");
  advance(10 * kMs);
  expect(F::ACK, S, P + 1);
}

TEST_F(Timers, KeepaliveOffByDefault) {
  establish_passive();
  advance(3 * 3600 * kSec);
  expect_none();
}

TEST_F(Timers, KeepaliveProbesIdleConnectionAndAnswerResetsIt) {
  Config c = base_config();
  c.keepalive = true;
  c.keepalive_idle_us = 60 * kSec;
  c.keepalive_interval_us = 5 * kSec;
  make(c);
  establish_passive();
  advance(60 * kSec - 1);
  expect_none();
  advance(1);
  expect(F::ACK, S - 1, P);
  peer(F::ACK, P, S);
  advance(60 * kSec - 1);
  expect_none();
  advance(1);
  expect(F::ACK, S - 1, P);
  advance(5 * kSec);
  expect(F::ACK, S - 1, P);
}

TEST_F(Timers, RetransmitDeadlineIsSnapshotOfRto) {
  establish_passive();
  app_send("x");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  EXPECT_EQ(conn->next_deadline(), now + 200 * kMs);
}

TEST_F(Timers, EarlyTimerCallDoesNothing) {
  establish_passive();
  app_send("x");
  expect(F::ACK | F::PSH, S, P, -1, 1);
  conn->on_timer(now + 1);
  expect_none();
}

// Arbitrary segments in every state: the connection must never crash, never release a buffer it
// did not hold, never hold more buffers than configured, and always report a sane deadline.
TEST_F(Timers, RandomSegmentsNeverBreakInvariants) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    env = TestEnv();
    conn.reset();
    Config c = base_config();
    c.timestamps = round % 2;
    c.sack = round % 3;
    c.window_scaling = round % 5;
    c.recv_buffer = 1000 + rng() % 70000;
    c.max_ooo_ranges = 1 + rng() % 8;
    make(c);
    if (round % 2)
      establish_passive();
    else
      establish_active();
    for (int i = 0; i < 300; ++i) {
      uint8_t flags = static_cast<uint8_t>(rng());
      if (rng() % 4) flags &= static_cast<uint8_t>(~(F::RST | F::SYN));
      uint32_t seq = P + static_cast<uint32_t>(rng() % 200000) - 50000;
      uint32_t ack = S + static_cast<uint32_t>(rng() % 5000) - 1000;
      std::string d(rng() % 1600, 'z');
      TcpOptions o;
      if (rng() % 2) o.ts = Timestamps{static_cast<uint32_t>(rng() % 100), static_cast<uint32_t>(rng())};
      if (rng() % 4 == 0) o.mss = static_cast<uint16_t>(rng());
      peer(flags, seq, ack, d, static_cast<uint16_t>(rng()), o);
      if (rng() % 5 == 0) app_send(std::string(rng() % 3000, 'y'));
      if (rng() % 50 == 0) conn->close(now);
      if (rng() % 7 == 0) {
        uint8_t buf[512];
        conn->read(buf, now);
      }
      advance(rng() % 300 * kMs);
      ASSERT_LE(conn->ooo_ranges(), c.max_ooo_ranges);
      ASSERT_GE(conn->next_deadline(), now);
      env.out.clear();
      if (conn->state() == State::kClosed) break;
    }
    conn.reset();
  }
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
