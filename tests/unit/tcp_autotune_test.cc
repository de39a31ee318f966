// Buffer auto-tuning (Linux tcp_rcv_space_adjust() and tcp_sndbuf_expand()): the receive
// buffer grows while a sender opens its window faster than the buffer allows, the send buffer
// while it, not the windows, limits the flight; neither grows without need, past its maximum,
// or when the engine refuses the memory. Also the ByteRing operations they rest on.
#include "proto/tcp/ring.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;
constexpr uint8_t kPeerShift = 7;

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string text(const TwoSpans& t) {
  std::string s(t.a.begin(), t.a.end());
  s.append(t.b.begin(), t.b.end());
  return s;
}

TEST(ByteRing, WriteAtIsReadableOnlyAfterCommit) {
  ByteRing r(16);
  r.write(as_bytes("abc"));
  EXPECT_EQ(r.write_at(6, as_bytes("ghi")), 3u);  // a hole at 3..6
  EXPECT_EQ(r.size(), 3u);
  r.write(as_bytes("def"));  // fills the hole
  r.commit(3);
  EXPECT_EQ(text(r.peek(0, 100)), "abcdefghi");
  EXPECT_EQ(r.write_at(20, as_bytes("x")), 0u);  // beyond the capacity
}

TEST(ByteRing, StoredDataSurvivesConsumingEverythingReadable) {
  ByteRing r(16);
  r.write(as_bytes("abc"));
  r.write_at(5, as_bytes("fg"));
  EXPECT_EQ(r.consume(3), 3u);  // readable now empty, but "fg" still sits 2 bytes ahead
  r.write(as_bytes("de"));
  r.commit(2);
  EXPECT_EQ(text(r.peek(0, 100)), "defg");
}

TEST(ByteRing, GrowKeepsWrappedAndStoredData) {
  ByteRing r(8);
  r.write(as_bytes("012345"));
  r.consume(5);                      // head at 5
  r.write(as_bytes("6789"));         // wraps
  r.write_at(6, as_bytes("C"));      // stored past a hole, wrapped too
  r.grow(32);
  EXPECT_EQ(r.capacity(), 32u);
  EXPECT_EQ(text(r.peek(0, 100)), "56789");
  r.write(as_bytes("A"));
  r.commit(1);
  EXPECT_EQ(text(r.peek(0, 100)), "56789AC");
  EXPECT_EQ(r.free(), 32u - 7u);
}

class AutoTune : public TcpTest {
 protected:
  Config tuned(uint32_t start, uint32_t max) {
    Config c = base_config();
    c.window_scaling = true;
    c.timestamps = true;
    c.sack = true;
    c.recv_buffer = start;
    c.recv_buffer_max = max;
    c.send_buffer = start;
    c.send_buffer_max = max;
    return c;
  }
  // Passive open with window scaling and timestamps on both sides.
  void open(const Config& c) {
    make(c);
    peer_syn(opts_syn(1460, kPeerShift, true, Timestamps{tsval_, 0}));
    ASSERT_EQ(env.out.size(), 1u);
    take_acks();
    peer_opt(F::ACK, P, S, opts_ts(tsval_, echo_), {}, 65535);
    ASSERT_EQ(conn->state(), State::kEstablished);
  }
  // Reads what the connection sent: the right edge it offers and the TSval to echo.
  void take_acks() {
    for (const Sent& s : env.out) {
      if (s.h.opt.ts) echo_ = s.h.opt.ts->val;
      edge_ = s.h.ack.raw() + (uint32_t{s.h.window} << conn->rcv_wscale());
      if (s.h.flags & F::SYN) edge_ = s.h.ack.raw() + s.h.window;
      acked_ = s.h.ack.raw();
    }
    env.out.clear();
  }
  // One round trip of a slow-starting sender: it sends what its cwnd and our window allow,
  // then the clock moves one RTT and it sees our ACKs.
  void send_round(uint32_t& cwnd, uint64_t rtt_us) {
    const uint32_t seg = 1448;
    uint32_t budget = cwnd;
    while (budget >= seg && static_cast<int32_t>(edge_ - (seq_ + seg)) >= 0) {
      std::string d(seg, static_cast<char>('a' + (seq_ / seg) % 26));
      peer_opt(F::ACK, seq_, S, opts_ts(tsval_, echo_), d, 65535);
      sent_.append(d);
      seq_ += seg;
      budget -= seg;
    }
    advance(rtt_us);
    tsval_ += static_cast<uint32_t>(rtt_us / 1000);
    take_acks();
    cwnd *= 2;
  }

  uint32_t tsval_ = 100;
  uint32_t echo_ = 0;
  uint32_t edge_ = 0;
  uint32_t acked_ = 0;
  uint32_t seq_ = P;
  std::string sent_;
};

TEST_F(AutoTune, ReceiveBufferGrowsWithASlowStartingSender) {
  open(tuned(64 * 1024, 2 * 1024 * 1024));
  EXPECT_EQ(conn->recv_buffer(), 64u * 1024);
  uint32_t cwnd = 10 * 1448;
  for (int round = 0; round < 14; ++round) send_round(cwnd, 20 * kMs);
  EXPECT_EQ(env.received, sent_);  // every byte, in order
  EXPECT_GT(conn->rcv_rtt_us(), 5 * kMs);  // from the echoed timestamps (smoothed from ~0)
  EXPECT_LT(conn->rcv_rtt_us(), 40 * kMs);
  EXPECT_EQ(conn->recv_buffer(), 2u * 1024 * 1024);  // grew to the maximum, not past it
  EXPECT_GT(edge_ - acked_, 1024u * 1024);           // and the window offered followed
  EXPECT_EQ(env.grown, 2u * 1024 * 1024 - 64 * 1024);
  EXPECT_GT(conn->stats().buffer_grows, 0u);
}

TEST_F(AutoTune, ReceiveBufferFixedWithoutAMaximum) {
  open(tuned(64 * 1024, 0));
  uint32_t cwnd = 10 * 1448;
  for (int round = 0; round < 10; ++round) send_round(cwnd, 20 * kMs);
  EXPECT_EQ(conn->recv_buffer(), 64u * 1024);
  EXPECT_LE(edge_ - acked_, 64u * 1024 + 128);
  EXPECT_EQ(env.received, sent_);
}

TEST_F(AutoTune, ReceiveBufferDoesNotGrowWhenTheEngineRefuses) {
  open(tuned(64 * 1024, 2 * 1024 * 1024));
  env.allow_grow = false;
  uint32_t cwnd = 10 * 1448;
  for (int round = 0; round < 10; ++round) send_round(cwnd, 20 * kMs);
  EXPECT_EQ(conn->recv_buffer(), 64u * 1024);
  EXPECT_EQ(env.received, sent_);
}

TEST_F(AutoTune, ReceiveBufferDoesNotGrowWhileTheApplicationDoesNotRead) {
  open(tuned(64 * 1024, 2 * 1024 * 1024));
  env.consume_limit = 0;
  uint32_t cwnd = 10 * 1448;
  for (int round = 0; round < 10; ++round) send_round(cwnd, 20 * kMs);
  EXPECT_EQ(conn->recv_buffer(), 64u * 1024);  // the window closed instead
  EXPECT_GE(conn->readable(), 60u * 1024);
}

TEST_F(AutoTune, ReceiveBufferStaysSmallOnAShortPathWithASmallSender) {
  open(tuned(64 * 1024, 2 * 1024 * 1024));
  // 8 KB per 20 ms round trip: the sender never needs more than a fraction of the buffer.
  for (int round = 0; round < 30; ++round) {
    uint32_t cwnd = 8 * 1024;
    send_round(cwnd, 20 * kMs);
  }
  EXPECT_EQ(conn->recv_buffer(), 64u * 1024);
}

// A 100 us path with a sender that never needs the window: timestamps tick in milliseconds,
// so the RTT comes from when the echoed TSval last went out. Measured as 1 ms it would count
// ten round trips of data as one and grow the buffer (the surplus window then overflowed the
// TUN queue: 26 765 drops and 1.3 Gbit/s instead of 4.9 with iperf3 -P 4).
TEST_F(AutoTune, ReceiveBufferStaysSmallOnAMicrosecondPath) {
  open(tuned(64 * 1024, 2 * 1024 * 1024));
  for (int round = 0; round < 200; ++round) {
    uint32_t cwnd = 8 * 1448;
    send_round(cwnd, 100);
  }
  EXPECT_LT(conn->rcv_rtt_us(), 1000u);
  EXPECT_EQ(conn->recv_buffer(), 64u * 1024);
  EXPECT_EQ(env.received, sent_);
}

// The peer acknowledges everything each round trip, one ACK per two segments.
class SendTune : public AutoTune {
 protected:
  // The application keeps the send buffer full.
  void round(uint16_t peer_win, uint64_t rtt_us) {
    while (app_send(bytes(64 * 1024)) > 0) {
    }
    Seq high = conn->snd_nxt();
    env.out.clear();
    advance(rtt_us);
    env.out.clear();
    tsval_ += static_cast<uint32_t>(rtt_us / 1000);
    for (Seq a = conn->snd_una(); a < high;) {
      a = seq_min(a + 2 * 1448, high);
      peer_opt(F::ACK, P, a.raw(), opts_ts(tsval_, echo_), {}, peer_win);
    }
    while (app_send(bytes(64 * 1024)) > 0) {
    }
  }
};

TEST_F(SendTune, SendBufferGrowsWhileItLimitsTheFlight) {
  open(tuned(64 * 1024, 1024 * 1024));
  EXPECT_EQ(conn->send_buffer(), 64u * 1024);
  for (int i = 0; i < 12; ++i) round(65535, 20 * kMs);  // 8 MB window (shift 7)
  EXPECT_EQ(conn->send_buffer(), 1024u * 1024);
  EXPECT_GT(conn->snd_nxt().since(Seq(S)), 4u * 1024 * 1024);
  EXPECT_GE(conn->scoreboard().capacity(), 1024u * 1024 / 256);
}

TEST_F(SendTune, SendBufferStaysWhenThePeerWindowIsTheLimit) {
  open(tuned(64 * 1024, 1024 * 1024));
  for (int i = 0; i < 12; ++i) round(256, 20 * kMs);  // 32 KB window
  EXPECT_EQ(conn->send_buffer(), 64u * 1024);
}

TEST_F(SendTune, SendBufferStaysWhenTheEngineRefuses) {
  open(tuned(64 * 1024, 1024 * 1024));
  env.allow_grow = false;
  for (int i = 0; i < 12; ++i) round(65535, 20 * kMs);
  EXPECT_EQ(conn->send_buffer(), 64u * 1024);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
