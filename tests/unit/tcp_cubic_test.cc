// CUBIC congestion control (RFC 9438) and HyStart (Linux tcp_cubic.c), driven over fake time;
// and the choice of algorithm on a connection.
#include <cmath>

#include "proto/tcp/cubic.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t M = 1000;  // MSS of the algorithm-level tests

// Feeds ACKs like a steady ACK clock: every `step` µs, cwnd * step / rtt bytes are acked, with
// an RTT sample of `rtt`. Returns the time reached.
uint64_t run(Cubic& c, uint64_t t, uint64_t until, uint64_t rtt, uint64_t step = 1000) {
  double owed = 0;
  for (; t < until; t += step) {
    owed += static_cast<double>(c.cwnd()) * static_cast<double>(step) / static_cast<double>(rtt);
    uint32_t acked = static_cast<uint32_t>(owed);
    owed -= acked;
    AckSample s;
    s.acked = acked;
    s.now_us = t;
    s.rtt_us = static_cast<int64_t>(rtt);
    c.on_ack(s);
  }
  return t;
}

// A connection at cwnd `w` segments that just took a loss, with a known minimum RTT.
Cubic after_loss(uint32_t w, uint64_t rtt, bool hystart = false) {
  Cubic c(hystart);
  c.init(M);
  AckSample s;
  s.now_us = 1;
  s.rtt_us = static_cast<int64_t>(rtt);
  c.on_ack(s);  // delay_min
  while (c.cwnd() < w * M) {
    s.acked = M;
    c.on_ack(s);
  }
  c.on_enter_reduction(c.cwnd());
  c.on_end_reduction();
  return c;
}

TEST(TcpCubic, MultiplicativeDecreaseIsBeta07) {
  Cubic c = after_loss(100, 100'000);
  EXPECT_EQ(c.ssthresh(), 70 * M);
  EXPECT_EQ(c.cwnd(), 70 * M);
  EXPECT_DOUBLE_EQ(c.w_max_segments(), 100.0);
}

TEST(TcpCubic, MinimumSsthreshIsTwoSegments) {
  Cubic c(false);
  c.init(M);
  c.on_rto(0, true);
  EXPECT_EQ(c.ssthresh(), 7 * M);  // from the initial window of 10
  c.on_enter_reduction(0);         // cwnd 1 segment now
  EXPECT_EQ(c.ssthresh(), 2 * M);
}

TEST(TcpCubic, FastConvergenceLowersWmaxWhenLossComesBelowIt) {
  Cubic c = after_loss(100, 100'000);
  // Grow to 80 segments, below the old W_max of 100: release bandwidth (RFC 9438 4.7).
  AckSample s;
  s.acked = 1000 * M;
  s.now_us = 2'000'000;
  while (c.cwnd() < 80 * M) {
    s.now_us += 10'000;
    c.on_ack(s);
  }
  c.on_enter_reduction(c.cwnd());
  double w = static_cast<double>(c.prior_cwnd()) / M;
  EXPECT_DOUBLE_EQ(c.w_max_segments(), w * (1 + 0.7) / 2);
}

TEST(TcpCubic, WindowFollowsTheCubicFunctionOverTime) {
  const uint64_t rtt = 100'000;
  Cubic c = after_loss(100, rtt);
  // K = cbrt(W_max (1 - beta) / C) = cbrt(30 / 0.4) seconds (RFC 9438 eq. 2).
  uint64_t t0 = 2'000'000;
  uint64_t t = run(c, t0, t0 + 1000, rtt);  // the epoch starts at the first ACK
  EXPECT_NEAR(c.k_sec(), std::cbrt(30 / 0.4), 1e-9);
  for (double at : {1.0, 2.0, 3.0, 4.2, 5.0, 6.0}) {
    t = run(c, t, t0 + static_cast<uint64_t>(at * 1e6), rtt);
    // The window tracks W_cubic one RTT ahead, within a couple of segments of ACK-clock lag.
    double want = c.w_cubic(at + 0.1);
    double got = static_cast<double>(c.cwnd()) / M;
    EXPECT_NEAR(got, want, 2.5) << "t = " << at;
  }
  // The plateau: W_cubic(K) = W_max.
  EXPECT_DOUBLE_EQ(c.w_cubic(c.k_sec()), 100.0);
  // Beyond it, convex growth: faster over the second second than over the first.
  uint32_t w6 = c.cwnd();
  t = run(c, t, t0 + 7'000'000, rtt);
  uint32_t w7 = c.cwnd();
  run(c, t, t0 + 8'000'000, rtt);
  EXPECT_GT(c.cwnd() - w7, w7 - w6);
}

TEST(TcpCubic, RenoFriendlyRegionGrowsAtLeastAsFastAsReno) {
  // Short RTT, small window: CUBIC alone would take K = cbrt(6 / 0.4) = 2.5 s to get back.
  const uint64_t rtt = 1'000;
  Cubic c = after_loss(20, rtt);
  uint64_t t0 = 2'000'000;
  run(c, t0, t0 + 100 * rtt, rtt, 100);
  double got = static_cast<double>(c.cwnd()) / M;
  // RFC 9438 4.3: W_est grows by alpha = 3 (1 - 0.7) / (1 + 0.7) per RTT: ~14 + 53 segments.
  EXPECT_GT(c.w_est_segments(), 60.0);
  EXPECT_NEAR(got, c.w_est_segments(), 2.0);
  EXPECT_GT(got, c.w_cubic(0.1) + 10);
}

TEST(TcpCubic, GrowthIsCappedAtOnePointFiveTimesPerRtt) {
  const uint64_t rtt = 100'000;
  Cubic c = after_loss(100, rtt);
  uint64_t t0 = 20'000'000;  // far beyond K: W_cubic is huge
  uint64_t t = run(c, t0, t0 + 1000, rtt);
  uint32_t before = c.cwnd();
  run(c, t, t + rtt, rtt);
  EXPECT_LE(c.cwnd(), before * 3 / 2 + M);
}

TEST(TcpCubic, SlowStartBelowSsthreshAddsAckedBytes) {
  Cubic c(false);
  c.init(M);
  AckSample s;
  s.acked = 3 * M;
  c.on_ack(s);
  EXPECT_EQ(c.cwnd(), 13 * M);  // Linux tcp_slow_start(): no RFC 3465 limit
  s.may_grow = false;
  c.on_ack(s);
  EXPECT_EQ(c.cwnd(), 13 * M);
}

TEST(TcpCubic, HyStartLeavesSlowStartWhenTheRttRises) {
  Cubic c(true);
  c.init(M);
  AckSample s;
  s.acked = M;
  s.rtt_us = 10'000;
  s.now_us = 0;
  // Rounds of 10 ms RTT while cwnd grows past the 16-segment low window.
  uint32_t seq = 0;
  while (c.cwnd() < 20 * M) {
    s.now_us += 5'000;  // ACKs spaced beyond the 2 ms train gap
    seq += M;
    s.ack = Seq(seq);
    s.snd_nxt = Seq(seq + c.cwnd());
    c.on_ack(s);
  }
  EXPECT_FALSE(c.hystart_found());
  EXPECT_EQ(c.delay_min_us(), 10'000u);
  // A new round (an ACK beyond the last round's SND.NXT) with the RTT up by more than
  // max(4 ms, delay_min / 8), over HYSTART_MIN_SAMPLES samples.
  seq = s.snd_nxt.raw();
  s.snd_nxt = Seq(seq + 100 * M);
  s.rtt_us = 15'000;
  for (int i = 0; i < 9; ++i) {
    s.now_us += 5'000;
    seq += M;
    s.ack = Seq(seq);
    c.on_ack(s);
  }
  EXPECT_TRUE(c.hystart_found());
  EXPECT_EQ(c.ssthresh(), c.cwnd());
  EXPECT_FALSE(c.in_slow_start());
}

TEST(TcpCubic, HyStartAckTrainLeavesSlowStart) {
  Cubic c(true);
  c.init(M);
  AckSample s;
  s.acked = M;
  s.rtt_us = 10'000;
  s.now_us = 1'000'000;
  c.on_ack(s);
  while (c.cwnd() < 16 * M) c.on_ack(s);
  // A train of ACKs 1 ms apart lasting more than delay_min / 2 within one round.
  s.snd_nxt = Seq(1'000'000);
  for (int i = 0; i < 7 && !c.hystart_found(); ++i) {
    s.now_us += 1'000;
    c.on_ack(s);
  }
  EXPECT_TRUE(c.hystart_found());
}

TEST(TcpCubic, IdleTimeDoesNotCountAsEpochTime) {
  const uint64_t rtt = 100'000;
  Cubic a = after_loss(100, rtt);
  Cubic b = after_loss(100, rtt);
  uint64_t t0 = 2'000'000;
  run(a, t0, t0 + 1'000'000, rtt);
  run(b, t0, t0 + 1'000'000, rtt);
  b.on_idle_restart(3'000'000, t0 + 4'000'000);
  AckSample s;
  s.acked = M;
  s.now_us = t0 + 1'000'000;
  a.on_ack(s);
  s.now_us = t0 + 4'000'000;
  b.on_ack(s);
  EXPECT_EQ(a.cwnd(), b.cwnd());
}

class CcChoice : public TcpTest {};

TEST_F(CcChoice, CubicIsTheDefaultAndNewRenoIsAvailable) {
  establish_passive();
  EXPECT_STREQ(conn->cc_name(), "cubic");
  conn.reset();
  Config c = base_config();
  c.cc = CcAlgo::kNewReno;
  make(c);
  establish_passive();
  EXPECT_STREQ(conn->cc_name(), "newreno");
}

TEST_F(CcChoice, CubicFastRecoveryCutsToSeventyPercent) {
  establish_sack();
  app_send(bytes(10 * 1460));
  env.out.clear();
  advance(50 * kMs);
  peer_sack(kIss + 1, {{kIss + 1 + 1460, kIss + 1 + 4 * 1460}});
  EXPECT_TRUE(conn->in_recovery());
  EXPECT_EQ(conn->ssthresh(), 7 * 1460u);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
