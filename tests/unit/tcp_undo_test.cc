// Undo of spurious window reductions (Linux tcp_undo_cwnd_reduction()):
//  - Eifel detection by timestamps (RFC 3522, Linux tcp_packet_delayed()): an ACK whose TSecr
//    predates the episode's first retransmission was caused by a delayed original, so the
//    reduction is undone at fast-recovery exit (tcp_try_undo_recovery), on a partial ACK
//    (tcp_try_undo_partial; with retransmissions still out, nothing more is marked lost on
//    that ACK instead) and in the loss state after an RTO (tcp_try_undo_loss);
//  - D-SACKs (RFC 2883) carried by old ACKs (ACK below SND.UNA, overtaken on the path) are
//    processed like Linux tcp_ack()'s old_ack path, so they still prove retransmissions
//    spurious;
//  - without timestamps only the D-SACK undo remains.
#include <optional>

#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;
constexpr uint32_t kInf = CongestionControl::kInfiniteSsthresh;

using Blocks = std::initializer_list<std::pair<uint32_t, uint32_t>>;

// a is before b in TS serial arithmetic (RFC 7323 5.3).
bool ts_before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

class Undo : public TcpTest {
 protected:
  // SACK always; timestamps on our side as asked. RACK and TLP as the defaults unless turned
  // off.
  static Config config(bool ts = true, bool rack = true, bool tlp = true, uint32_t ts_offset = 0) {
    Config c = base_config();
    c.sack = true;
    c.timestamps = ts;
    c.rack = rack;
    c.tlp = tlp;
    c.ts_offset = ts_offset;
    return c;
  }

  // Passive open over a 50 ms path, with SACK unless the peer does not offer it. The peer
  // offers timestamps if peer_ts; they are negotiated when our config has them too. The
  // peer's ACKs carry a TS option whenever it offered one (even when we declined: RFC 7323 3.2
  // says to ignore it then).
  void open(const Config& c, bool peer_ts = true, bool peer_sack = true) {
    const uint64_t rtt = 50 * kMs;
    make(c);
    peer_ts_ = peer_ts;
    peer_syn(opts_syn(1460, {}, peer_sack,
                           peer_ts ? std::optional<Timestamps>(Timestamps{peer_tsval(), 0})
                                   : std::nullopt));
    Sent sa = expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
    ASSERT_EQ(sa.h.opt.ts.has_value(), c.timestamps && peer_ts);
    advance(rtt);
    ack(S, sa.h.opt.ts ? sa.h.opt.ts->val : 1);
    ASSERT_EQ(conn->state(), State::kEstablished);
    ASSERT_EQ(conn->sack_enabled(), peer_sack);
    ASSERT_EQ(conn->ts_enabled(), c.timestamps && peer_ts);
    mss = conn->snd_mss();
    expect_none();
  }

  // The peer's clock (ms), in step with ours, so that PAWS never drops its segments.
  uint32_t peer_tsval() const { return static_cast<uint32_t>(now / kMs) + 70000; }

  // The peer acknowledges `a` with SACK blocks (a D-SACK first); echoing `ecr` if it sends
  // timestamps.
  void ack(uint32_t a, uint32_t ecr, Blocks blocks = {}, uint16_t win = 65535) {
    TcpOptions o = sacks(blocks);
    if (peer_ts_) o.ts = Timestamps{peer_tsval(), ecr};
    peer(F::ACK, P, a, {}, win, o);
  }

  // The application writes n full segments; all go at once (n <= cwnd). Returns their TSval
  // (0 without timestamps).
  uint32_t send_flight(uint32_t n, uint32_t first = 0) {
    app_send(bytes(n * mss));
    uint32_t ts = 0;
    for (uint32_t i = 0; i < n; ++i) {
      Sent s = expect(i + 1 == n ? F::ACK | F::PSH : F::ACK, seg(first + i), P, -1, mss);
      if (s.h.opt.ts) ts = s.h.opt.ts->val;
    }
    expect_none();
    return ts;
  }
  // Expects a retransmission of segment i; returns its TSval.
  uint32_t expect_retx(uint32_t i, bool psh = false) {
    Sent s = expect(psh ? F::ACK | F::PSH : F::ACK, seg(i), P, -1, mss);
    return s.h.opt.ts ? s.h.opt.ts->val : 0;
  }

  // Ten segments (T0) over the 50 ms path; the peer SACKs 1-3, so RACK (or DupThresh) marks
  // segment 0 lost: fast recovery and its retransmission (T1, 50 ms later).
  void recovery_on_segment_0() {
    t0 = send_flight(10);
    cwnd0 = conn->cwnd();
    ssthresh0 = conn->ssthresh();
    ASSERT_EQ(cwnd0, 10 * mss);
    ASSERT_EQ(ssthresh0, kInf);
    advance(50 * kMs);
    ack(S, t0, {{seg(1), seg(4)}});
    ASSERT_TRUE(conn->in_recovery());
    t1 = expect_retx(0);
    expect_none();
    ASSERT_EQ(conn->ssthresh(), 7 * mss);  // CUBIC: 0.7 x 10 segments
    ASSERT_LT(conn->cwnd(), cwnd0);
    if (conn->ts_enabled()) {
      ASSERT_TRUE(ts_before(t0, t1));
    }
    ASSERT_EQ(conn->stats().undos, 0u);
  }

  // Ten segments and no ACK: the RTO (TLP off) retransmits segment 0 with cwnd = 1 segment.
  void timeout_on_segment_0() {
    t0 = send_flight(10);
    cwnd0 = conn->cwnd();
    ssthresh0 = conn->ssthresh();
    ASSERT_EQ(conn->rtx_timer(), Connection::RtxTimer::kRto);
    advance(conn->rtx_deadline() - now);
    ASSERT_EQ(conn->stats().timeouts, 1u);
    ASSERT_EQ(conn->ca_state(), CaState::kLoss);
    t1 = expect_retx(0);
    expect_none();
    ASSERT_EQ(conn->cwnd(), mss);
    ASSERT_EQ(conn->ssthresh(), 7 * mss);
    if (conn->ts_enabled()) {
      ASSERT_TRUE(ts_before(t0, t1));
    }
  }

  // A fresh connection and clock (for tests that loop over variants).
  void reset() {
    conn.reset();
    env = TestEnv();
    buffers_.clear();
    now = 1'000'000;
  }

  // Index in the scoreboard of segment i.
  size_t rec(uint32_t i) const { return conn->scoreboard().find(Seq(seg(i))); }
  bool lost(uint32_t i) const {
    size_t k = rec(i);
    return k != SackScoreboard::kNone && conn->scoreboard().at(k).has(TxSegment::kLost);
  }

  uint32_t seg(uint32_t i) const { return S + mss * i; }

  uint32_t mss = 1460;
  bool peer_ts_ = true;
  uint32_t t0 = 0, t1 = 0;  // TSval of the original flight and of the first retransmission
  uint32_t cwnd0 = 0, ssthresh0 = 0;
};

// ---------------------------------------------------------------------------------------------
// (a) Fast-recovery exit: Linux tcp_try_undo_recovery().

// The defaults (RACK, TLP, CUBIC). The hole is filled by the delayed original, whose TSval the
// peer echoes: at exit the reduction is undone instead of ended.
TEST_F(Undo, RecoveryExitEchoingTheOriginalUndoesTheReduction) {
  open(config());
  EXPECT_EQ(mss, 1448u);  // 1460 less the timestamp option
  recovery_on_segment_0();
  advance(10 * kMs);
  ack(seg(10), t0);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->stats().dsacks_received, 0u);  // timestamps alone proved it
  // The retransmission arrives too and is D-SACKed: the episode was already undone, once.
  advance(10 * kMs);
  ack(seg(10), t1, {{seg(0), seg(1)}});
  EXPECT_EQ(conn->stats().dsacks_received, 1u);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
  expect_none();
}

// Echoing the retransmission (or anything later, or no valid echo at all): the retransmission
// filled the hole; the reduction ends normally with cwnd = ssthresh (Linux
// tcp_end_cwnd_reduction()).
TEST_F(Undo, RecoveryExitEchoingTheRetransmissionEndsTheReduction) {
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    reset();
    open(config());
    recovery_on_segment_0();
    advance(10 * kMs);
    uint32_t ecr = variant == 0 ? t1 : variant == 1 ? t1 + 5 : 0;  // 0: RFC 7323 "no echo"
    ack(seg(10), ecr);
    EXPECT_EQ(conn->ca_state(), CaState::kOpen);
    EXPECT_EQ(conn->ssthresh(), 7 * mss);
    EXPECT_EQ(conn->cwnd(), conn->ssthresh());
    EXPECT_EQ(conn->stats().undos, 0u);
  }
}

// The comparison uses serial arithmetic (RFC 7323 5.3), so it holds across the wrap of the TS
// clock; one millisecond before the retransmission is already "before" it.
TEST_F(Undo, EchoComparisonIsSerialAcrossTheTimestampWrap) {
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    reset();
    // The flight leaves at 1050 ms (TSval 2^32 - 25), the retransmission at 1100 ms (TSval 25).
    open(config(true, true, true, 0u - 1075u));
    recovery_on_segment_0();
    ASSERT_EQ(t0, 0u - 25u);
    ASSERT_EQ(t1, 25u);
    advance(10 * kMs);
    bool delayed = variant < 2;
    ack(seg(10), variant == 0 ? t0 : variant == 1 ? t1 - 1 : t1);
    EXPECT_EQ(conn->stats().undos, delayed ? 1u : 0u);
    EXPECT_EQ(conn->ssthresh(), delayed ? kInf : 7 * mss);
    EXPECT_EQ(conn->cwnd(), delayed ? cwnd0 : 7 * mss);
  }
}

// Each episode compares with its own first retransmission: the one of an earlier episode
// (whose reduction ended normally) is forgotten when the new one starts with nothing
// retransmitted outstanding (Linux clears retrans_stamp once no retransmission is out).
TEST_F(Undo, ASecondEpisodeComparesWithItsOwnRetransmission) {
  open(config());
  recovery_on_segment_0();
  advance(10 * kMs);
  ack(seg(10), t1);
  ASSERT_EQ(conn->ca_state(), CaState::kOpen);
  ASSERT_EQ(conn->stats().undos, 0u);
  uint32_t w = conn->cwnd();
  ASSERT_EQ(w, 7 * mss);
  ASSERT_EQ(conn->ssthresh(), 7 * mss);
  // A second flight of seven, long after the first retransmission.
  advance(100 * kMs);
  uint32_t t4 = send_flight(7, 10);
  advance(50 * kMs);
  ack(seg(10), t4, {{seg(11), seg(14)}});
  ASSERT_TRUE(conn->in_recovery());
  uint32_t t5 = expect_retx(10);
  ASSERT_TRUE(ts_before(t1, t4));
  ASSERT_TRUE(ts_before(t4, t5));
  ASSERT_LT(conn->ssthresh(), w);
  advance(10 * kMs);
  ack(seg(17), t4);  // the original of 10 was delayed
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->cwnd(), w);
  EXPECT_EQ(conn->ssthresh(), 7 * mss);
}

// ---------------------------------------------------------------------------------------------
// (b) Partial ACKs in fast recovery: Linux tcp_try_undo_partial().

// Segments 0 and 2 are lost and both retransmitted; segment 6 is still unSACKed. A partial ACK
// (up to 2) echoing the original flight newly SACKs 7-9, which would make 6 lost (three
// segments SACKed above it, and sent before a delivered one). The delayed original filled
// hole 0 while the retransmission of 2 is still out: on that ACK nothing more is marked lost
// (nor retransmitted). Segment 6 is still repaired later.
class UndoPartial : public Undo {
 protected:
  void two_holes_then_partial_ack(const Config& c, bool old_echo) {
    open(c);
    t0 = send_flight(10);
    cwnd0 = conn->cwnd();
    advance(50 * kMs);
    ack(S, t0, {{seg(3), seg(6)}, {seg(1), seg(2)}});
    ASSERT_TRUE(conn->in_recovery());
    t1 = expect_retx(0);
    expect_retx(2);
    expect_none();
    ASSERT_TRUE(ts_before(t0, t1));
    ASSERT_EQ(conn->scoreboard().retrans_bytes(), 2 * mss);
    ASSERT_FALSE(lost(6));
    advance(5 * kMs);
    ack(seg(2), old_echo ? t0 : t1, {{seg(7), seg(10)}, {seg(3), seg(6)}});
    ASSERT_EQ(conn->snd_una(), Seq(seg(2)));
    EXPECT_TRUE(conn->in_recovery());
    EXPECT_EQ(conn->stats().undos, 0u);
  }
  // Segment i is retransmitted within an RTO from now (whatever timer or ACK does it).
  bool repaired_within_rto(uint32_t i) {
    uint64_t end = now + conn->rto_us();
    for (;;) {
      for (const Sent& s : env.out)
        if (s.h.seq.raw() == seg(i) && s.payload.size() == mss) return true;
      env.out.clear();
      if (now >= end) return false;
      advance(std::min<uint64_t>(kMs, end - now));
    }
  }
};

TEST_F(UndoPartial, OldEchoWithARetransmissionOutMarksNothingMoreLostWithRack) {
  two_holes_then_partial_ack(config(), true);
  EXPECT_EQ(conn->scoreboard().retrans_bytes(), mss);  // the retransmission of 2 is out
  EXPECT_FALSE(lost(6));
  expect_none();
  EXPECT_EQ(conn->stats().retransmits, 2u);
  // The retransmission of 2 arrives (not delayed: no undo); 6 is repaired soon after.
  advance(5 * kMs);
  ack(seg(6), t1, {{seg(7), seg(10)}});
  EXPECT_TRUE(conn->in_recovery());
  EXPECT_TRUE(repaired_within_rto(6));
  EXPECT_EQ(conn->stats().undos, 0u);
}

TEST_F(UndoPartial, OldEchoWithARetransmissionOutMarksNothingMoreLostWithDupThresh) {
  two_holes_then_partial_ack(config(true, false, false), true);
  EXPECT_EQ(conn->scoreboard().retrans_bytes(), mss);
  EXPECT_FALSE(lost(6));
  expect_none();
  EXPECT_EQ(conn->stats().retransmits, 2u);
  advance(5 * kMs);
  ack(seg(6), t1, {{seg(7), seg(10)}});
  EXPECT_TRUE(repaired_within_rto(6));
  EXPECT_EQ(conn->stats().undos, 0u);
}

// The control: the same partial ACK echoing the retransmission marks 6 lost at once.
TEST_F(UndoPartial, EchoOfTheRetransmissionMarksLossesAsUsual) {
  for (bool rack : {true, false}) {
    SCOPED_TRACE(rack);
    reset();
    two_holes_then_partial_ack(config(true, rack, rack), false);
    EXPECT_TRUE(lost(6));
    expect_retx(6);
    expect_none();
    EXPECT_EQ(conn->stats().retransmits, 3u);
  }
}

// A partial ACK echoing the original flight with no retransmission left outstanding: the
// reduction is undone there and then (recovery ends before the recovery point is reached).
TEST_F(Undo, PartialAckWithAnOldEchoAndNoRetransmissionOutUndoes) {
  open(config());
  recovery_on_segment_0();
  advance(5 * kMs);
  ack(seg(4), t0);  // the recovery point is segment 10
  EXPECT_EQ(conn->snd_una(), Seq(seg(4)));
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
  EXPECT_EQ(conn->stats().undos, 1u);
  expect_none();
  // The rest arrives: nothing more happens.
  ack(seg(10), t0);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
}

TEST_F(Undo, PartialAckEchoingTheRetransmissionStaysInRecovery) {
  open(config());
  recovery_on_segment_0();
  advance(5 * kMs);
  ack(seg(4), t1);
  EXPECT_TRUE(conn->in_recovery());
  EXPECT_EQ(conn->ssthresh(), 7 * mss);
  EXPECT_EQ(conn->stats().undos, 0u);
  ack(seg(10), t1 + 5);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->cwnd(), 7 * mss);
  EXPECT_EQ(conn->stats().undos, 0u);
}

// Linux tcp_try_undo_partial() first records the delay as reordering
// (tcp_check_sack_reordering(sk, prior_snd_una, 1): reord_seen++), then undoes with
// unmark_loss. RACK then allows a reordering window (tcp_rack_reo_wnd(): min_RTT / 4 once
// reord_seen) before it calls the next hole lost. Here the partial ACK that proves the delay
// also SACKs 5-7 above hole 4 (sent at the same time as 0): Linux undoes and, with the
// window, does not mark 4 lost on that same ACK (the reordering timer decides 12.5 ms later).
TEST_F(Undo, PartialUndoCountsAsReorderingAndDoesNotReenterRecoveryAtOnce) {
  open(config());
  recovery_on_segment_0();
  advance(5 * kMs);
  ack(seg(4), t0, {{seg(5), seg(8)}});
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_TRUE(conn->rack().reordering_seen());
  EXPECT_EQ(conn->stats().sack_recoveries, 1u);
  EXPECT_FALSE(conn->in_recovery());
  EXPECT_EQ(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
  EXPECT_FALSE(lost(4));
  expect_none();
}

// ---------------------------------------------------------------------------------------------
// (c) After an RTO: Linux tcp_try_undo_loss().

// The original of segment 0 was only delayed past the RTO: the first ACK advancing SND.UNA
// echoes it. cwnd and ssthresh return to their values before the timeout, the state is Open
// and the other segments, marked lost by the timeout, are not sent again (go-back-N stops).
TEST_F(Undo, TimeoutThenAnAckEchoingTheOriginalUndoesTheLossWindow) {
  open(config(true, true, false));
  timeout_on_segment_0();
  advance(5 * kMs);
  ack(seg(1), t0);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
  // Back to the 10 segments of before; the ACK itself may then grow it in slow start (Open).
  EXPECT_GE(conn->cwnd(), cwnd0);
  EXPECT_LE(conn->cwnd(), cwnd0 + mss);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->scoreboard().lost_bytes(), 0u);
  expect_none();  // segments 1-9 are still in flight, not lost
  EXPECT_EQ(conn->stats().retransmits, 1u);
  ack(seg(10), t0);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->stats().retransmits, 1u);
}

// Echoing the retransmission: it was needed; the loss window stays and go-back-N goes on.
TEST_F(Undo, TimeoutThenAnAckEchoingTheRetransmissionKeepsTheLossWindow) {
  open(config(true, true, false));
  timeout_on_segment_0();
  advance(5 * kMs);
  ack(seg(1), t1);
  EXPECT_EQ(conn->ca_state(), CaState::kLoss);
  EXPECT_EQ(conn->ssthresh(), 7 * mss);
  EXPECT_EQ(conn->cwnd(), 2 * mss);  // slow start from the loss window
  EXPECT_EQ(conn->stats().undos, 0u);
  expect_retx(1);
  expect_retx(2);
  expect_none();
  ack(seg(10), t1 + 5);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->ssthresh(), 7 * mss);
  EXPECT_LT(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->stats().undos, 0u);
}

// The loss-state undo does not depend on SACK: without it (timestamps only) the timeout's
// reduction is undone the same way and go-back-N stops.
TEST_F(Undo, TimeoutUndoByTimestampsWithoutSack) {
  open(config(true, true, false), true, false);
  timeout_on_segment_0();
  advance(5 * kMs);
  ack(seg(1), t0);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
  EXPECT_GE(conn->cwnd(), cwnd0);
  expect_none();
  ack(seg(10), t0);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->stats().retransmits, 1u);
  EXPECT_EQ(conn->stats().undos, 1u);
}

// In the loss state the undo needs an ACK that advances SND.UNA: a SACK-only ACK echoing the
// original does not undo.
TEST_F(Undo, TimeoutThenASackOnlyAckDoesNotUndo) {
  open(config(true, true, false));
  timeout_on_segment_0();
  advance(5 * kMs);
  ack(S, t0, {{seg(1), seg(2)}});
  EXPECT_EQ(conn->ca_state(), CaState::kLoss);
  EXPECT_EQ(conn->stats().undos, 0u);
  EXPECT_EQ(conn->ssthresh(), 7 * mss);
}

// Backed-off timeouts: the episode's first retransmission is the reference. An echo of it
// (sent before the second one) proves nothing; an echo of the original undoes everything back
// to before the first timeout.
TEST_F(Undo, RepeatedTimeoutsCompareWithTheFirstRetransmission) {
  for (bool echo_original : {true, false}) {
    SCOPED_TRACE(echo_original);
    reset();
    open(config(true, true, false));
    timeout_on_segment_0();
    advance(conn->rtx_deadline() - now);
    ASSERT_EQ(conn->stats().timeouts, 2u);
    uint32_t t2 = expect_retx(0);
    expect_none();
    ASSERT_TRUE(ts_before(t1, t2));
    ASSERT_EQ(conn->ssthresh(), 7 * mss);  // not cut again
    advance(5 * kMs);
    ack(seg(1), echo_original ? t0 : t1);
    EXPECT_EQ(conn->stats().undos, echo_original ? 1u : 0u);
    EXPECT_EQ(conn->ca_state(), echo_original ? CaState::kOpen : CaState::kLoss);
    EXPECT_EQ(conn->ssthresh(), echo_original ? ssthresh0 : 7 * mss);
  }
}

// With the defaults a tail loss probe goes first (a retransmission of the last segment); the
// RTO follows. The probe is the episode's first retransmission: an echo of the original
// flight still undoes the timeout.
TEST_F(Undo, TimeoutAfterAProbeUndoneByAnEchoOfTheOriginal) {
  open(config());
  t0 = send_flight(10);
  cwnd0 = conn->cwnd();
  ASSERT_EQ(conn->rtx_timer(), Connection::RtxTimer::kTlp);
  advance(conn->rtx_deadline() - now);
  uint32_t tp = expect_retx(9, true);
  ASSERT_EQ(conn->stats().tlp_probes, 1u);
  advance(conn->rtx_deadline() - now);
  ASSERT_EQ(conn->stats().timeouts, 1u);
  ASSERT_EQ(conn->ca_state(), CaState::kLoss);
  t1 = expect_retx(0);
  ASSERT_TRUE(ts_before(t0, tp));
  ASSERT_TRUE(ts_before(tp, t1));
  advance(5 * kMs);
  ack(seg(1), t0);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->ssthresh(), kInf);
  EXPECT_GE(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->stats().undos, 1u);
}

// ---------------------------------------------------------------------------------------------
// Old ACKs (ACK < SND.UNA): the ACK field is ignored, the SACK blocks are not (Linux
// tcp_ack() old_ack). No timestamps here: the D-SACK alone proves the retransmission
// spurious.

// The receiver got the original of segment 0 (ACK 4, SACKs 1-3 then covered), then its
// retransmission (ACK 4 + D-SACK 0), then segment 4 (ACK 5). The last ACK overtook the
// D-SACKing one: it arrives old, and it was the only unconfirmed retransmission: undo.
TEST_F(Undo, OldAckWithADsackOfTheLastRetransmissionUndoes) {
  open(config(false), false);
  recovery_on_segment_0();
  advance(5 * kMs);
  ack(seg(5), 0);
  ASSERT_TRUE(conn->in_recovery());  // a partial ACK; no timestamps to prove a delay
  ASSERT_EQ(conn->stats().undos, 0u);
  ack(seg(4), 0, {{seg(0), seg(1)}});
  EXPECT_EQ(conn->snd_una(), Seq(seg(5)));
  EXPECT_EQ(conn->stats().dsacks_received, 1u);
  EXPECT_EQ(conn->stats().spurious_retransmits, 1u);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
  expect_none();
}

// Two retransmissions (0 and 2): an old ACK D-SACKs the first; one is left unconfirmed, so no
// undo yet. The D-SACK of the second (a current duplicate ACK) completes it.
TEST_F(Undo, OldAckDsackCountsTowardUndoButOneOfTwoIsNotEnough) {
  open(config(false), false);
  send_flight(10);
  cwnd0 = conn->cwnd();
  advance(50 * kMs);
  ack(S, 0, {{seg(3), seg(6)}, {seg(1), seg(2)}});
  ASSERT_TRUE(conn->in_recovery());
  expect_retx(0);
  expect_retx(2);
  expect_none();
  advance(5 * kMs);
  ack(seg(6), 0);
  ASSERT_TRUE(conn->in_recovery());
  ack(seg(2), 0, {{seg(0), seg(1)}, {seg(3), seg(6)}});  // old
  EXPECT_EQ(conn->snd_una(), Seq(seg(6)));
  EXPECT_EQ(conn->stats().spurious_retransmits, 1u);
  EXPECT_EQ(conn->stats().undos, 0u);
  EXPECT_TRUE(conn->in_recovery());
  ack(seg(6), 0, {{seg(2), seg(3)}});
  EXPECT_EQ(conn->stats().spurious_retransmits, 2u);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->ssthresh(), kInf);
}

// An old ACK with plain SACK blocks: they mark the scoreboard, but SND.UNA, the send window
// and the duplicate-ACK count stay. With DupThresh loss detection (RACK off) three duplicate
// ACKs would start recovery: three old ones do not; three current ones then do.
TEST_F(Undo, OldAckWithSackBlocksIsNotADuplicateAck) {
  open(config(false, false, false), false);
  send_flight(10);
  advance(50 * kMs);
  ack(seg(2), 0);
  ASSERT_EQ(conn->snd_una(), Seq(seg(2)));
  uint32_t wnd = conn->snd_wnd();
  for (int i = 0; i < 3; ++i) ack(seg(1), 0, {{seg(4), seg(5)}}, 1000);
  EXPECT_EQ(conn->snd_una(), Seq(seg(2)));
  EXPECT_EQ(conn->snd_wnd(), wnd);
  EXPECT_EQ(conn->scoreboard().sacked_bytes(), mss);  // processed
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  expect_none();
  // Current duplicate ACKs with the same block: the third starts recovery.
  ack(seg(2), 0, {{seg(4), seg(5)}});
  ack(seg(2), 0, {{seg(4), seg(5)}});
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  expect_none();
  ack(seg(2), 0, {{seg(4), seg(5)}});
  EXPECT_TRUE(conn->in_recovery());
  expect_retx(2);
  EXPECT_EQ(conn->stats().undos, 0u);
}

// The SACK blocks of an old ACK count for loss detection like any: three segments SACKed above
// a hole start recovery (the defaults: RACK).
TEST_F(Undo, OldAckSackBlocksFeedLossDetection) {
  open(config(false), false);
  send_flight(10);
  advance(50 * kMs);
  ack(seg(2), 0);
  ack(seg(1), 0, {{seg(3), seg(6)}});
  EXPECT_EQ(conn->snd_una(), Seq(seg(2)));
  EXPECT_EQ(conn->scoreboard().sacked_bytes(), 3 * mss);
  EXPECT_TRUE(conn->in_recovery());
  expect_retx(2);
  expect_none();
}

// Linux processes an old ACK's SACK blocks even when nothing is outstanding any more
// (tcp_ack() old_ack -> tcp_sacktag_write_queue() -> tcp_check_dsack() counts the D-SACK
// before its "!tp->packets_out" exit; tcp_fastretrans_alert() -> tcp_try_undo_dsack() then
// undoes in Open). Here: the recovery ended normally (no timestamps), then the overtaken ACK
// with the D-SACK of the only retransmission arrives after everything was acknowledged.
TEST_F(Undo, OldAckWithADsackAfterEverythingWasAckedStillUndoes) {
  open(config(false), false);
  recovery_on_segment_0();
  advance(5 * kMs);
  ack(seg(10), 0);
  ASSERT_EQ(conn->ca_state(), CaState::kOpen);
  ASSERT_EQ(conn->cwnd(), 7 * mss);
  ASSERT_EQ(conn->snd_una(), conn->snd_nxt());
  ack(seg(4), 0, {{seg(0), seg(1)}});  // old: 4 < 10
  EXPECT_EQ(conn->snd_una(), Seq(seg(10)));
  EXPECT_EQ(conn->stats().dsacks_received, 1u);
  EXPECT_EQ(conn->stats().spurious_retransmits, 1u);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->cwnd(), cwnd0);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
}

// ---------------------------------------------------------------------------------------------
// Without timestamps negotiated (our side declined them, or the peer never offered them) the
// echo proves nothing: no undo at recovery exit, on partial ACKs or after an RTO. Where the
// peer sends TS options anyway (not negotiated), they are ignored.

struct NoTs {
  bool local_ts;  // our config
  bool peer_ts;   // the peer offers them (and keeps sending them)
};
constexpr NoTs kNoTsCases[] = {{false, true}, {true, false}};

TEST_F(Undo, WithoutTimestampsNoUndoAtRecoveryExit) {
  for (NoTs c : kNoTsCases) {
    SCOPED_TRACE(c.local_ts);
    reset();
    open(config(c.local_ts), c.peer_ts);
    ASSERT_FALSE(conn->ts_enabled());
    EXPECT_EQ(mss, 1460u);
    recovery_on_segment_0();
    advance(10 * kMs);
    ack(seg(10), 1);  // an "old" echo, if the peer sends any
    EXPECT_EQ(conn->ca_state(), CaState::kOpen);
    EXPECT_EQ(conn->cwnd(), 7 * mss);
    EXPECT_EQ(conn->ssthresh(), 7 * mss);
    EXPECT_EQ(conn->stats().undos, 0u);
  }
}

TEST_F(Undo, WithoutTimestampsPartialAcksNeitherUndoNorHoldMarking) {
  for (NoTs c : kNoTsCases) {
    SCOPED_TRACE(c.local_ts);
    // No retransmission out: no partial undo.
    reset();
    open(config(c.local_ts), c.peer_ts);
    recovery_on_segment_0();
    advance(5 * kMs);
    ack(seg(4), 1);
    EXPECT_TRUE(conn->in_recovery());
    EXPECT_EQ(conn->stats().undos, 0u);
    EXPECT_EQ(conn->ssthresh(), 7 * mss);
    // A retransmission out: loss marking goes on.
    reset();
    open(config(c.local_ts), c.peer_ts);
    send_flight(10);
    advance(50 * kMs);
    ack(S, 1, {{seg(3), seg(6)}, {seg(1), seg(2)}});
    ASSERT_TRUE(conn->in_recovery());
    expect_retx(0);
    expect_retx(2);
    expect_none();
    advance(5 * kMs);
    ack(seg(2), 1, {{seg(7), seg(10)}, {seg(3), seg(6)}});
    EXPECT_TRUE(lost(6));
    expect_retx(6);
    expect_none();
    EXPECT_EQ(conn->stats().undos, 0u);
  }
}

TEST_F(Undo, WithoutTimestampsNoUndoAfterTimeout) {
  for (NoTs c : kNoTsCases) {
    SCOPED_TRACE(c.local_ts);
    reset();
    open(config(c.local_ts, true, false), c.peer_ts);
    timeout_on_segment_0();
    advance(5 * kMs);
    ack(seg(1), 1);
    EXPECT_EQ(conn->ca_state(), CaState::kLoss);
    EXPECT_EQ(conn->cwnd(), 2 * mss);
    EXPECT_EQ(conn->ssthresh(), 7 * mss);
    EXPECT_EQ(conn->stats().undos, 0u);
    expect_retx(1);
    expect_retx(2);
    expect_none();
  }
}

// The D-SACK undo remains: after the RTO, the D-SACK of its retransmission (the original
// arrived first) undoes the timeout's reduction.
TEST_F(Undo, WithoutTimestampsADsackStillUndoesTheTimeout) {
  open(config(false, true, false), false);
  timeout_on_segment_0();
  advance(5 * kMs);
  ack(seg(1), 0);  // the original of 0
  ASSERT_EQ(conn->ca_state(), CaState::kLoss);
  ASSERT_EQ(conn->stats().undos, 0u);
  env.out.clear();  // go-back-N: 1 and 2 again
  ack(seg(1), 0, {{seg(0), seg(1)}});  // the retransmission of 0, duplicate
  EXPECT_EQ(conn->stats().spurious_retransmits, 1u);
  EXPECT_EQ(conn->stats().undos, 0u);  // 1 and 2 were retransmitted too: not yet
  ack(seg(3), 0, {{seg(1), seg(3)}});  // and both were duplicates
  EXPECT_EQ(conn->stats().spurious_retransmits, 3u);
  EXPECT_EQ(conn->stats().undos, 1u);
  EXPECT_EQ(conn->ca_state(), CaState::kOpen);
  EXPECT_EQ(conn->ssthresh(), ssthresh0);
  EXPECT_GE(conn->cwnd(), cwnd0);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
