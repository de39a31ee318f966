// Options in use: timestamps and PAWS (RFC 7323 3-5), window scaling (RFC 7323 2), SACK
// blocks (RFC 2018 3-4).
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;

class Options : public TcpTest {
 protected:
  // Passive open with timestamps, SACK and window scaling (peer shift 7, ours from 1 MiB = 5).
  void establish_full(bool ts = true, bool sack = true) {
    Config c = base_config();
    c.timestamps = ts;
    c.sack = sack;
    c.window_scaling = true;
    c.recv_buffer = 1 << 20;
    make(c);
    conn->listen(Seq(kIss));
    std::optional<Timestamps> t;
    if (ts) t = Timestamps{peer_ts, 0};
    peer_opt(F::SYN, kPeerIss, 0, opts_syn(1460, 7, sack, t));
    expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
    peer(F::ACK, P, S, {}, 512, ts ? opts_ts(++peer_ts, our_ts()) : TcpOptions{});
    ASSERT_EQ(conn->state(), State::kEstablished);
  }
  uint32_t our_ts() const { return static_cast<uint32_t>(now / 1000); }
  TcpOptions ts_opt() { return opts_ts(++peer_ts, our_ts()); }
  uint32_t peer_ts = 7000;
};

TEST_F(Options, EverySegmentCarriesTimestampsEchoingTsRecent) {
  establish_full();
  app_send("hi");
  Sent s = expect(F::ACK | F::PSH, S, P, -1, 2);
  ASSERT_TRUE(s.h.opt.ts);
  EXPECT_EQ(s.h.opt.ts->val, our_ts());
  EXPECT_EQ(s.h.opt.ts->ecr, peer_ts);
}

TEST_F(Options, TimestampEchoGivesRttSample) {
  establish_full();
  app_send("hi");
  expect(F::ACK | F::PSH, S, P, -1, 2);
  uint32_t sent_ts = our_ts();
  advance(30 * kMs);
  peer(F::ACK, P, S + 2, {}, 512, opts_ts(++peer_ts, sent_ts));
  // Handshake sample 0 ms, then 30 ms: SRTT = 30/8 ms.
  EXPECT_EQ(conn->rtt().srtt_us(), 3750u);
}

TEST_F(Options, TimestampRttWorksForRetransmittedSegments) {
  establish_full();
  app_send("hi");
  expect(F::ACK | F::PSH, S, P, -1, 2);
  advance(200 * kMs);
  expect(F::ACK | F::PSH, S, P, -1, 2);
  uint32_t retrans_ts = our_ts();
  advance(10 * kMs);
  peer(F::ACK, P, S + 2, {}, 512, opts_ts(++peer_ts, retrans_ts));
  EXPECT_EQ(conn->rtt().srtt_us(), (7 * 0 + 10000) / 8u);  // RFC 7323 4: unambiguous
}

TEST_F(Options, PawsDropsOldTimestampAndAcks) {
  establish_full();
  peer(F::ACK, P, S, "new", 512, opts_ts(peer_ts + 10, our_ts()));
  EXPECT_EQ(env.received, "new");
  peer(F::ACK, P + 3, S, "old", 512, opts_ts(peer_ts - 5, our_ts()));  // TSval went back
  EXPECT_EQ(env.received, "new");
  EXPECT_EQ(conn->stats().paws_drops, 1u);
  Sent a = expect(F::ACK, S, P + 3);
  EXPECT_EQ(a.h.opt.ts->ecr, peer_ts + 10);
}

// RFC 5961 5.2 before RFC 7323 4.3: a blind segment at RCV.NXT with an unacceptable ACK gets a
// challenge ACK and is dropped whole; its TSval must not become TS.Recent, or PAWS would then
// drop every segment of the real peer (found by tests/integration/blind_attack_test.sh).
TEST_F(Options, SegmentWithBadAckDoesNotUpdateTsRecent) {
  establish_full();
  peer(F::ACK, P, S + (1u << 30), "evil", 512, opts_ts(peer_ts + (1u << 30), our_ts()));
  Sent c = expect(F::ACK, S, P);  // the challenge ACK echoes the old TS.Recent
  EXPECT_EQ(c.h.opt.ts->ecr, peer_ts);
  EXPECT_EQ(env.received, "");
  peer(F::ACK, P, S, "good", 512, ts_opt());
  EXPECT_EQ(env.received, "good");
  EXPECT_EQ(conn->stats().paws_drops, 0u);
}

TEST_F(Options, PawsDoesNotApplyToRst) {
  establish_full();
  peer(F::RST, P, 0, {}, 0, opts_ts(1, 0));
  EXPECT_EQ(env.closed, CloseReason::kReset);
}

TEST_F(Options, PawsAcceptsAfter24DaysIdle) {
  establish_full();
  now += 25ull * 24 * 3600 * kSec;
  peer(F::ACK, P, S, "late", 512, opts_ts(1, our_ts()));
  EXPECT_EQ(env.received, "late");
}

TEST_F(Options, TsRecentUpdatesOnlyForSegmentAtLastAckSent) {
  establish_full();
  // Out-of-order segment with a newer TSval: SEG.SEQ > Last.ACK.sent, so TS.Recent stays.
  peer(F::ACK, P + 100, S, "x", 512, opts_ts(peer_ts + 50, our_ts()));
  Sent a = expect(F::ACK, S, P);
  EXPECT_EQ(a.h.opt.ts->ecr, peer_ts);
  peer(F::ACK, P, S, "y", 512, opts_ts(peer_ts + 60, our_ts()));
  advance(40 * kMs);
  Sent b = expect(F::ACK, S, P + 1);
  EXPECT_EQ(b.h.opt.ts->ecr, peer_ts + 60);
}

TEST_F(Options, SendMssLeavesRoomForTimestamps) {
  establish_full();
  EXPECT_EQ(conn->snd_mss(), 1448u);
  peer(F::ACK, P, S, {}, 512, ts_opt());  // 512 << 7 = 65536
  app_send(bytes(3000));
  expect(F::ACK, S, P, -1, 1448);
  expect(F::ACK, S + 1448, P, -1, 1448);
}

TEST_F(Options, PeerWindowIsScaledByItsShift) {
  establish_full();
  EXPECT_EQ(conn->snd_wnd(), 512u << 7);
}

TEST_F(Options, OurWindowIsAdvertisedScaled) {
  establish_full();
  peer(F::ACK, P, S, "abcd", 512, ts_opt());
  advance(40 * kMs);
  Sent a = expect(F::ACK, S, P + 4);
  // 1 MiB free, shift 5: 32768 (the 4 bytes were consumed: the edge moved by 4 < MSS, kept)
  EXPECT_EQ(a.h.window, (1u << 20) >> 5);
}

TEST_F(Options, SackBlockReportsOutOfOrderData) {
  establish_full(false, true);
  peer(F::ACK, P + 1000, S, bytes(500));
  Sent a = expect(F::ACK, S, P);
  ASSERT_EQ(a.h.opt.sack_count, 1);
  EXPECT_EQ(a.h.opt.sack[0], (SackBlock{Seq(P + 1000), Seq(P + 1500)}));
}

TEST_F(Options, SackFirstBlockIsMostRecentSegment) {
  establish_full(false, true);
  peer(F::ACK, P + 1000, S, bytes(100));
  expect(F::ACK, S, P);
  peer(F::ACK, P + 3000, S, bytes(100));
  Sent a = expect(F::ACK, S, P);
  ASSERT_EQ(a.h.opt.sack_count, 2);
  EXPECT_EQ(a.h.opt.sack[0], (SackBlock{Seq(P + 3000), Seq(P + 3100)}));
  EXPECT_EQ(a.h.opt.sack[1], (SackBlock{Seq(P + 1000), Seq(P + 1100)}));
  peer(F::ACK, P + 1100, S, bytes(100));  // extends the first block
  Sent b = expect(F::ACK, S, P);
  ASSERT_EQ(b.h.opt.sack_count, 2);
  EXPECT_EQ(b.h.opt.sack[0], (SackBlock{Seq(P + 1000), Seq(P + 1200)}));
  EXPECT_EQ(b.h.opt.sack[1], (SackBlock{Seq(P + 3000), Seq(P + 3100)}));
}

TEST_F(Options, SackAtMostFourBlocksWithoutTimestamps) {
  establish_full(false, true);
  for (uint32_t i = 1; i <= 5; ++i) peer(F::ACK, P + 1000 * i, S, bytes(10));
  env.out.resize(4);
  Sent a = env.out.back();
  EXPECT_EQ(a.h.opt.sack_count, 4);
  EXPECT_EQ(a.h.opt.sack[0], (SackBlock{Seq(P + 4000), Seq(P + 4010)}));
  env.out.clear();
  peer(F::ACK, P + 6000, S, bytes(10));
  Sent b = expect(F::ACK, S, P);
  EXPECT_EQ(b.h.opt.sack_count, 4);
}

TEST_F(Options, SackAtMostThreeBlocksWithTimestamps) {
  establish_full(true, true);
  for (uint32_t i = 1; i <= 4; ++i) peer(F::ACK, P + 1000 * i, S, bytes(10), 512, ts_opt());
  Sent a = env.out.back();
  EXPECT_EQ(a.h.opt.sack_count, 3);
  EXPECT_EQ(header_len(a.h), 60u);
}

TEST_F(Options, SackBlocksDisappearWhenHoleFills) {
  establish_full(false, true);
  peer(F::ACK, P + 10, S, bytes(10));
  expect(F::ACK, S, P);
  peer(F::ACK, P, S, bytes(10));
  Sent a = expect(F::ACK, S, P + 20);
  EXPECT_EQ(a.h.opt.sack_count, 0);
}

TEST_F(Options, NoSackBlocksUnlessNegotiated) {
  establish_full(false, false);
  peer(F::ACK, P + 10, S, bytes(10));
  Sent a = expect(F::ACK, S, P);
  EXPECT_EQ(a.h.opt.sack_count, 0);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
