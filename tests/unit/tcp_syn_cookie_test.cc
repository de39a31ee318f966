// SYN cookies (RFC 4987 3.6): the cookie arithmetic of proto/tcp/syn_cookie.h, and connections
// created from a returning cookie with Connection::cookie_syn_ack() / accept_cookie().
#include <random>

#include "proto/tcp/syn_cookie.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr SipKey kSecret{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
constexpr CookieTuple kTuple{kLocalIp, kRemoteIp, kLocalPort, kRemotePort};
constexpr uint64_t kNow = 1000 * kSec;  // well inside tick 16 of 60 s

TEST(SynCookie, RoundTripForEveryMssTableEntry) {
  SynCookies c(kSecret);
  for (uint32_t i = 0; i < kCookieMssTable.size(); ++i) {
    ASSERT_EQ(SynCookies::mss_index(kCookieMssTable[i]), i);
    const Seq cookie = c.make(kTuple, Seq(kPeerIss), i, kNow);
    EXPECT_EQ(c.check(kTuple, Seq(kPeerIss), cookie, kNow), kCookieMssTable[i]) << "index " << i;
  }
}

TEST(SynCookie, PeerMssRoundsDownToATableEntry) {
  EXPECT_EQ(kCookieMssTable[SynCookies::mss_index(1459)], 1440);
  EXPECT_EQ(kCookieMssTable[SynCookies::mss_index(1460)], 1460);
  EXPECT_EQ(kCookieMssTable[SynCookies::mss_index(9000)], 8960);
  EXPECT_EQ(kCookieMssTable[SynCookies::mss_index(65535)], 65495);
  EXPECT_EQ(kCookieMssTable[SynCookies::mss_index(100)], 536);  // below them all: the default
}

TEST(SynCookie, RejectsAnotherFourTupleOrIsn) {
  SynCookies c(kSecret);
  const Seq cookie = c.make(kTuple, Seq(kPeerIss), 3, kNow);
  CookieTuple t = kTuple;
  t.local_addr ^= 1;
  EXPECT_FALSE(c.check(t, Seq(kPeerIss), cookie, kNow));
  t = kTuple;
  t.remote_addr ^= 0x100;
  EXPECT_FALSE(c.check(t, Seq(kPeerIss), cookie, kNow));
  t = kTuple;
  ++t.local_port;
  EXPECT_FALSE(c.check(t, Seq(kPeerIss), cookie, kNow));
  t = kTuple;
  ++t.remote_port;
  EXPECT_FALSE(c.check(t, Seq(kPeerIss), cookie, kNow));
  // The peer's ISN enters by addition (as in Linux), so a change below 8 only moves the MSS
  // index, like tampering with bits 0-2 below; larger ones break the hash layer.
  for (uint32_t d : {8u, 100u, 0x10000u, 0x80000000u, 0xfffffff8u})
    EXPECT_FALSE(c.check(kTuple, Seq(kPeerIss + d), cookie, kNow)) << d;
  // Another process's secret.
  SynCookies other(SipKey{kSecret.k0 + 1, kSecret.k1});
  EXPECT_FALSE(other.check(kTuple, Seq(kPeerIss), cookie, kNow));
}

TEST(SynCookie, RejectsTamperedHashOrTimeBits) {
  SynCookies c(kSecret);
  const Seq cookie = c.make(kTuple, Seq(kPeerIss), 3, kNow);
  // Bits 0-2 only move the MSS index, as in Linux; every other bit is covered by the hashes.
  for (uint32_t bit = 3; bit < 32; ++bit)
    EXPECT_FALSE(c.check(kTuple, Seq(kPeerIss), Seq(cookie.raw() ^ (1u << bit)), kNow)) << bit;
}

TEST(SynCookie, RandomGuessesFail) {
  SynCookies c(kSecret);
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i)
    accepted += c.check(kTuple, Seq(kPeerIss), Seq(rng()), kNow) ? 1 : 0;
  EXPECT_EQ(accepted, 0);  // expected 200000 * 2/256 * 8/2^24 < 0.001
}

TEST(SynCookie, ValidForOneToTwoMinutesThenExpires) {
  SynCookies c(kSecret);
  const uint64_t tick_start = kNow / kCookieTickUs * kCookieTickUs;
  const Seq cookie = c.make(kTuple, Seq(kPeerIss), 2, tick_start + kCookieTickUs - 1);
  // Made at the very end of a tick: still good all through the next one (at least 1 minute).
  EXPECT_EQ(c.check(kTuple, Seq(kPeerIss), cookie, tick_start + 2 * kCookieTickUs - 1), 1440);
  EXPECT_FALSE(c.check(kTuple, Seq(kPeerIss), cookie, tick_start + 2 * kCookieTickUs));
  // Made at the start of a tick: good for just under 2 minutes.
  const Seq early = c.make(kTuple, Seq(kPeerIss), 2, tick_start);
  EXPECT_EQ(c.check(kTuple, Seq(kPeerIss), early, tick_start + 2 * kCookieTickUs - 1), 1440);
  EXPECT_FALSE(c.check(kTuple, Seq(kPeerIss), early, tick_start + 2 * kCookieTickUs));
  EXPECT_FALSE(c.check(kTuple, Seq(kPeerIss), early, tick_start + 100 * kCookieTickUs));
  // A clock before the cookie's tick is not "young": rejected too.
  EXPECT_FALSE(c.check(kTuple, Seq(kPeerIss), early, tick_start - 1));
}

TEST(SynCookie, TimestampCarriesWindowScaleAndSack) {
  for (uint32_t ts_now : {0u, 63u, 64u, 1000u, 123456789u, 0xffffffffu}) {
    for (int ws = -1; ws <= 14; ++ws) {
      for (bool sack : {false, true}) {
        const std::optional<uint8_t> w = ws < 0 ? std::nullopt : std::optional<uint8_t>(ws);
        const uint32_t tsval = cookie_tsval(ts_now, w, sack);
        // Never ahead of the clock, and less than 2^6 behind it (RFC 7323 5.4: TSvals of the
        // connection that follows keep increasing).
        EXPECT_LT(ts_now - tsval, 64u) << ts_now;
        CookieOptions o;
        decode_cookie_tsecr(tsval, o);
        EXPECT_EQ(o.wscale, w);
        EXPECT_EQ(o.sack, sack);
      }
    }
  }
  CookieOptions o;
  decode_cookie_tsecr(cookie_tsval(5000, uint8_t{200}, false), o);
  EXPECT_EQ(o.wscale, std::optional<uint8_t>(14));  // RFC 7323 2.3: clamped to 14
}

// --- connections created from a cookie ---

class CookieConn : public TcpTest {
 protected:
  // The peer's SYN, our cookie SYN-ACK for it (checked against what the cookie encodes), then
  // the peer's ACK with `data`: the connection is created from that ACK alone.
  TcpRepr handshake(const Config& c, const TcpOptions& syn_opt, std::string_view data = {},
                    uint16_t ack_win = 65535, uint8_t extra_flags = 0) {
    make(c);
    SynCookies cookies(kSecret);
    TcpRepr syn;
    syn.src_port = kRemotePort;
    syn.dst_port = kLocalPort;
    syn.seq = Seq(kPeerIss);
    syn.flags = F::SYN;
    syn.window = 65535;
    syn.opt = syn_opt;
    const uint32_t idx = SynCookies::mss_index(syn.opt.mss.value_or(536));
    const Seq cookie = cookies.make(kTuple, syn.seq, idx, now);
    TcpRepr sa = Connection::cookie_syn_ack(cfg, syn, cookie, now);
    EXPECT_EQ(sa.flags, F::SYN | F::ACK);
    EXPECT_EQ(sa.seq, cookie);
    EXPECT_EQ(sa.ack.raw(), kPeerIss + 1);
    EXPECT_EQ(sa.src_port, kLocalPort);
    EXPECT_EQ(sa.dst_port, kRemotePort);
    EXPECT_EQ(sa.opt.mss, std::optional<uint16_t>(cfg.mss));
    iss_ = cookie.raw();
    now += 10 * kMs;

    SegmentIn ack;
    ack.hdr.src_port = kRemotePort;
    ack.hdr.dst_port = kLocalPort;
    ack.hdr.seq = Seq(kPeerIss + 1);
    ack.hdr.ack = cookie + 1;
    ack.hdr.flags = F::ACK | extra_flags;
    ack.hdr.window = ack_win;
    if (sa.opt.ts) ack.hdr.opt.ts = Timestamps{syn_opt.ts->val + 10, sa.opt.ts->val};
    buffers_.emplace_back(data.begin(), data.end());
    ack.payload = std::span<const uint8_t>(buffers_.back().data(), buffers_.back().size());
    // What the engine does with the ACK: check the cookie, read the options back.
    auto mss = cookies.check(kTuple, ack.hdr.seq - 1, ack.hdr.ack - 1, now);
    EXPECT_TRUE(mss);
    CookieOptions o;
    o.mss = mss.value_or(536);
    if (ack.hdr.opt.ts) decode_cookie_tsecr(ack.hdr.opt.ts->ecr, o);
    conn->accept_cookie(ack, o, now);
    return sa;
  }
  uint32_t iss_ = 0;
};

TEST_F(CookieConn, WithoutTimestampsOnlyMssSurvivesAndDataFlowsBothWays) {
  // The peer offers window scaling and SACK but no timestamps: the cookie cannot carry them,
  // so the SYN-ACK must not offer them either.
  Config c = base_config();
  c.window_scaling = c.sack = c.timestamps = true;
  TcpRepr sa = handshake(c, opts_syn(1400, 7, true), "hello");
  EXPECT_FALSE(sa.opt.wscale);
  EXPECT_FALSE(sa.opt.sack_permitted);
  EXPECT_FALSE(sa.opt.ts);
  EXPECT_EQ(sa.window, 65535);
  ASSERT_EQ(conn->state(), State::kEstablished);
  EXPECT_EQ(env.established, 1);
  EXPECT_EQ(conn->iss().raw(), iss_);
  EXPECT_EQ(conn->snd_una().raw(), iss_ + 1);
  EXPECT_EQ(conn->snd_mss(), 1300u);  // 1400 rounded down to the table
  EXPECT_EQ(conn->snd_wscale(), 0);
  EXPECT_EQ(conn->rcv_wscale(), 0);
  EXPECT_FALSE(conn->sack_enabled());
  EXPECT_FALSE(conn->ts_enabled());
  EXPECT_FALSE(conn->rtt().has_sample());  // Linux: no RTT sample from a cookie handshake
  // The data on the ACK was delivered (and is acknowledged within the delayed-ACK time).
  EXPECT_EQ(env.received, "hello");
  advance(40 * kMs);
  expect(F::ACK, iss_ + 1, kPeerIss + 6);
  // Our data goes out in 1300-byte segments.
  ASSERT_EQ(app_send(bytes(2000)), 2000u);
  expect(F::ACK, iss_ + 1, kPeerIss + 6, -1, 1300);
  expect(F::ACK | F::PSH, iss_ + 1301, kPeerIss + 6, -1, 700);
  peer(F::ACK, kPeerIss + 6, iss_ + 2001, "more");
  EXPECT_EQ(env.received, "hellomore");
  expect_none();
  EXPECT_EQ(conn->snd_una().raw(), iss_ + 2001);
}

TEST_F(CookieConn, TimestampsBringBackWindowScaleAndSack) {
  Config c = base_config();
  c.window_scaling = c.sack = c.timestamps = true;
  c.recv_buffer = 1 << 20;  // our shift: 5
  TcpRepr sa = handshake(c, opts_syn(1460, 7, true, Timestamps{777, 0}), {}, 1000);
  ASSERT_TRUE(sa.opt.ts);
  EXPECT_EQ(sa.opt.ts->ecr, 777u);
  EXPECT_EQ(sa.opt.wscale, std::optional<uint8_t>(5));
  EXPECT_TRUE(sa.opt.sack_permitted);
  EXPECT_EQ(sa.window, 65535);  // RFC 7323 2.2: a SYN's window is never scaled
  ASSERT_EQ(conn->state(), State::kEstablished);
  EXPECT_EQ(conn->snd_wscale(), 7);
  EXPECT_EQ(conn->rcv_wscale(), 5);
  EXPECT_TRUE(conn->sack_enabled());
  EXPECT_TRUE(conn->ts_enabled());
  EXPECT_EQ(conn->snd_wnd(), 1000u << 7);  // the ACK's window, scaled as decoded
  EXPECT_EQ(conn->snd_mss(), 1448u);       // 1460 less the timestamp option
  // Our segments carry timestamps echoing the ACK's TSval and a window scaled by 5.
  ASSERT_EQ(app_send(bytes(100)), 100u);
  Sent s = expect(F::ACK | F::PSH, iss_ + 1, kPeerIss + 1, -1, 100);
  ASSERT_TRUE(s.h.opt.ts);
  EXPECT_EQ(s.h.opt.ts->ecr, 787u);
  EXPECT_GE(s.h.opt.ts->val, sa.opt.ts->val);  // TSvals never go backwards
  EXPECT_EQ(s.h.window, (1u << 20) >> 5);
  // Out-of-order data is reported with SACK.
  peer_opt(F::ACK, kPeerIss + 101, iss_ + 101, opts_ts(800, s.h.opt.ts->val), bytes(50));
  Sent d = expect(F::ACK, iss_ + 101, kPeerIss + 1);
  ASSERT_EQ(d.h.opt.sack_count, 1);
  EXPECT_EQ(d.h.opt.sack[0].left.raw(), kPeerIss + 101);
}

TEST_F(CookieConn, TimestampsWithoutWindowScaleLeaveItOff) {
  Config c = base_config();
  c.window_scaling = c.sack = c.timestamps = true;
  TcpRepr sa = handshake(c, opts_syn(1460, {}, false, Timestamps{5, 0}), {}, 4000);
  EXPECT_FALSE(sa.opt.wscale);
  EXPECT_FALSE(sa.opt.sack_permitted);
  ASSERT_EQ(conn->state(), State::kEstablished);
  EXPECT_EQ(conn->snd_wscale(), 0);
  EXPECT_EQ(conn->rcv_wscale(), 0);
  EXPECT_FALSE(conn->sack_enabled());
  EXPECT_EQ(conn->snd_wnd(), 4000u);
}

TEST_F(CookieConn, OurOwnConfigStillDecides) {
  // The peer offers everything, we offer no window scaling: the SYN-ACK leaves it out and the
  // TSval records "none".
  Config c = base_config();
  c.sack = c.timestamps = true;
  c.window_scaling = false;
  TcpRepr sa = handshake(c, opts_syn(1460, 9, true, Timestamps{5, 0}));
  EXPECT_FALSE(sa.opt.wscale);
  EXPECT_TRUE(sa.opt.sack_permitted);
  EXPECT_EQ(conn->snd_wscale(), 0);
  EXPECT_TRUE(conn->sack_enabled());
}

TEST_F(CookieConn, DataAndFinOnTheAckEnterCloseWait) {
  handshake(base_config(), opts_syn(1460), "bye", 65535, F::FIN);
  EXPECT_EQ(env.received, "bye");
  EXPECT_EQ(conn->state(), State::kCloseWait);
  EXPECT_EQ(env.peer_closed, 1);
  expect(F::ACK, iss_ + 1, kPeerIss + 5);
  conn->close(now);
  expect(F::ACK | F::FIN, iss_ + 1, kPeerIss + 5);
  peer(F::ACK, kPeerIss + 5, iss_ + 2);
  EXPECT_EQ(conn->state(), State::kClosed);
  EXPECT_EQ(env.closed, CloseReason::kNormal);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
