// Receive path: zero-copy delivery, flow control, delayed ACKs (RFC 9293 3.8.6, RFC 1122
// 4.2.3.2-4.2.3.3, RFC 5681 4.2), zero windows, urgent data.
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

class Receive : public TcpTest {};

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;

TEST_F(Receive, InOrderDataIsOfferedInPlaceAndAckDelayed) {
  establish_passive();
  peer(F::ACK | F::PSH, P, S, "hello");
  EXPECT_EQ(env.received, "hello");
  EXPECT_EQ(conn->readable(), 0u);
  expect_none();
  EXPECT_EQ(conn->next_deadline(), now + 40 * kMs);
  advance(40 * kMs - 1);
  expect_none();
  advance(1);
  // RFC 9293 3.8.6.2.2: the right edge moves only by min(buffer/2, MSS) or more, so the
  // window shrinks by the 5 bytes received even though the application consumed them.
  expect(F::ACK, S, P + 5, 65530);
}

TEST_F(Receive, SecondFullSegmentIsAckedAtOnce) {
  establish_passive();
  peer(F::ACK, P, S, bytes(1460));
  expect_none();
  peer(F::ACK, P + 1460, S, bytes(1460));
  expect(F::ACK, S, P + 2920);
  EXPECT_EQ(conn->next_deadline(), kNever);
}

TEST_F(Receive, SmallSegmentsAckedEverySecond) {
  establish_passive();
  peer(F::ACK, P, S, bytes(300));
  expect_none();
  peer(F::ACK, P + 300, S, bytes(300));  // 600 > rcv_mss estimate (536)
  expect(F::ACK, S, P + 600);
}

TEST_F(Receive, UnconsumedDataShrinksTheWindow) {
  establish_passive();
  env.consume_limit = 2;
  peer(F::ACK | F::PSH, P, S, bytes(1000));
  EXPECT_EQ(env.received.size(), 2u);
  EXPECT_EQ(conn->readable(), 998u);
  advance(40 * kMs);
  expect(F::ACK, S, P + 1000, 65535 - 1000);  // the right edge stays (SWS rule)
}

TEST_F(Receive, ReadCopiesOutBufferedData) {
  establish_passive();
  env.consume_limit = 0;
  peer(F::ACK | F::PSH, P, S, "abcdef");
  uint8_t buf[4];
  EXPECT_EQ(conn->read(buf, now), 4u);
  EXPECT_EQ(std::string(buf, buf + 4), "abcd");
  EXPECT_EQ(conn->readable(), 2u);
  TwoSpans rest = conn->peek();
  EXPECT_EQ(std::string(rest.a.begin(), rest.a.end()), "ef");
  conn->consume(2, now);
  EXPECT_EQ(conn->readable(), 0u);
}

TEST_F(Receive, BufferedDataIsOfferedAgainWhenMoreArrives) {
  establish_passive();
  env.consume_limit = 0;
  peer(F::ACK, P, S, "abc");
  env.consume_limit = SIZE_MAX;
  peer(F::ACK, P + 3, S, "def");
  EXPECT_EQ(env.received, "abcdef");
  EXPECT_EQ(conn->readable(), 0u);
}

TEST_F(Receive, ZeroWindowDropsDataAndAcks) {
  Config c = base_config();
  c.recv_buffer = 4000;
  make(c);
  establish_passive();
  env.consume_limit = 0;
  peer(F::ACK, P, S, bytes(1460));
  peer(F::ACK, P + 1460, S, bytes(1460));
  expect(F::ACK, S, P + 2920, 4000 - 2920);
  peer(F::ACK, P + 2920, S, bytes(1080));
  advance(40 * kMs);
  expect(F::ACK, S, P + 4000, 0);
  EXPECT_EQ(conn->rcv_wnd(), 0u);
  peer(F::ACK, P + 4000, S, "x");  // beyond a zero window: dropped, ACKed
  expect(F::ACK, S, P + 4000, 0);
  EXPECT_EQ(conn->readable(), 4000u);
}

TEST_F(Receive, ReadingReopensWindowWithUpdate) {
  Config c = base_config();
  c.recv_buffer = 4000;
  make(c);
  establish_passive();
  env.consume_limit = 0;
  peer(F::ACK, P, S, bytes(1460));
  peer(F::ACK, P + 1460, S, bytes(1460));
  peer(F::ACK, P + 2920, S, bytes(1080));
  env.out.clear();
  advance(40 * kMs);
  expect(F::ACK, S, P + 4000, 0);
  uint8_t buf[4000];
  EXPECT_EQ(conn->read(std::span<uint8_t>(buf, 4000), now), 4000u);
  expect(F::ACK, S, P + 4000, 4000);  // window update
}

TEST_F(Receive, SillyWindowAvoidedForSmallReads) {
  Config c = base_config();
  c.recv_buffer = 8000;
  make(c);
  establish_passive();
  env.consume_limit = 0;
  for (uint32_t i = 0; i < 5; ++i) peer(F::ACK, P + 1460 * i, S, bytes(1460));
  peer(F::ACK, P + 7300, S, bytes(700));
  env.out.clear();
  advance(40 * kMs);
  expect_none();
  EXPECT_EQ(conn->rcv_wnd(), 0u);
  uint8_t buf[100];
  conn->read(buf, now);  // 100 bytes free: less than an MSS, no update
  expect_none();
  peer(F::ACK, P + 7999, S);  // a zero-window probe is answered with window 0, not 100
  expect(F::ACK, S, P + 8000, 0);
  uint8_t big[1500];
  conn->read(big, now);  // now 1600 free >= min(4000, 1460)
  expect(F::ACK, S, P + 8000, 1600);
}

TEST_F(Receive, DuplicateSegmentIsAckedImmediately) {
  establish_passive();
  peer(F::ACK, P, S, "abc");
  peer(F::ACK, P, S, "abc");
  expect(F::ACK, S, P + 3);
  EXPECT_EQ(env.received, "abc");
  EXPECT_EQ(conn->stats().dup_segments, 1u);
}

TEST_F(Receive, PartiallyOldSegmentIsTrimmed) {
  establish_passive();
  peer(F::ACK, P, S, "abc");
  peer(F::ACK, P + 1, S, "bcdef");
  EXPECT_EQ(env.received, "abcdef");
  EXPECT_EQ(conn->rcv_nxt().raw(), P + 6);
}

TEST_F(Receive, SegmentBeyondWindowIsTrimmedToIt) {
  Config c = base_config();
  c.recv_buffer = 1000;
  make(c);
  establish_passive();
  env.consume_limit = 0;
  peer(F::ACK, P, S, bytes(1200));
  EXPECT_EQ(conn->readable(), 1000u);
  expect(F::ACK, S, P + 1000, 0);
}

TEST_F(Receive, UrgentDataIsDeliveredInline) {
  establish_passive();
  peer(F::ACK | F::URG, P, S, "!urgent");
  EXPECT_EQ(env.received, "!urgent");
}

TEST_F(Receive, BytesInCounted) {
  establish_passive();
  peer(F::ACK, P, S, "12345");
  EXPECT_EQ(conn->stats().bytes_in, 5u);
}

TEST_F(Receive, FinIsAckedImmediately) {
  establish_passive();
  peer(F::ACK | F::FIN, P, S, "bye");
  EXPECT_EQ(env.received, "bye");
  expect(F::ACK, S, P + 4);
  EXPECT_EQ(env.peer_closed, 1);
}

TEST_F(Receive, AppMayCloseFromOnData) {
  class ClosingEnv : public TestEnv {
   public:
    Connection* c = nullptr;
    uint64_t t = 0;
    size_t on_data(std::span<const uint8_t> d) override {
      c->abort(t);
      return d.size();
    }
  };
  ClosingEnv e;
  Connection c2(base_config(), e);
  e.c = &c2;
  SegmentIn syn;
  syn.hdr.flags = F::SYN;
  syn.hdr.seq = Seq(kPeerIss);
  syn.hdr.opt = opts_syn();
  c2.accept_syn(syn, Seq(kIss), now);
  SegmentIn ack;
  ack.hdr.flags = F::ACK;
  ack.hdr.seq = Seq(P);
  ack.hdr.ack = Seq(S);
  ack.hdr.window = 1000;
  uint8_t d[3] = {1, 2, 3};
  ack.payload = d;
  c2.on_segment(ack, now);
  EXPECT_EQ(c2.state(), State::kClosed);
  EXPECT_EQ(e.closed, CloseReason::kAborted);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing

namespace tuntcp::proto::tcp::testing {
namespace {

// Found by fuzzing: with window scaling, re-advertising a kept window rounded it up to the
// scale unit on every ACK, so the right edge crept past the free space and the window never
// reached zero while the application read nothing (RFC 7323 Appendix F).
TEST_F(TcpTest, ScaledWindowClosesToZeroWhenTheApplicationDoesNotRead) {
  Config c = base_config();
  c.window_scaling = true;
  c.recv_buffer = 256 * 1024;  // our shift is 3: the window moves in units of 8 bytes
  make(c);
  peer_syn(opts_syn(1460, 3));
  env.out.clear();
  peer(F::ACK, kPeerIss + 1, kIss + 1);
  env.consume_limit = 0;  // the application reads nothing
  const uint32_t unit = 1u << conn->rcv_wscale();
  uint32_t seq = kPeerIss + 1;
  uint32_t last_win = 1;
  for (int i = 0; i < 100; ++i) {
    const uint32_t room = conn->rcv_wnd();
    if (room == 0) break;
    const uint32_t n = std::min<uint32_t>(room, 6294);  // the fuzzer's segment size
    peer(F::ACK, seq, kIss + 1, bytes(n));
    seq += n;
    advance(40 * kMs);  // the delayed ACK, if any
    while (!env.out.empty()) {
      last_win = env.out.front().h.window;
      env.out.pop_front();
    }
    // What we offer never goes beyond the buffer (by more than the rounding of one unit).
    ASSERT_LE(conn->readable() + conn->rcv_wnd(), c.recv_buffer + unit) << "segment " << i;
  }
  EXPECT_GE(conn->readable(), c.recv_buffer);  // full (the edge may round up by < a unit)
  EXPECT_LT(conn->readable(), c.recv_buffer + unit);
  EXPECT_EQ(last_win, 0u) << "the advertised window must close when the buffer is full";
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
