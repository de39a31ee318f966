// Segment sizes with options (RFC 9293 3.7.1, RFC 6691): the MSS counts the payload of a segment
// without TCP options, so every option a segment carries — timestamps, SACK blocks, a D-SACK —
// comes out of its payload and the datagram (IPv4 header + TCP header + payload) fits the MTU.
// Linux does the same in tcp_current_mss(). Checked for new data, TSO super-segments (gso_size
// is the payload_mss() of the header they carry), retransmissions and loss probes, at the
// smallest MTU tuntcp allows, 1500 and 9000, with and without timestamps, for 1 to 4 SACK
// blocks; and the scoreboard stays whole while the segment size shrinks and grows again.
#include <tuple>

#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t kIpv4Header = 20;

// The datagram a sent segment makes.
size_t datagram_len(const Sent& s) { return kIpv4Header + header_len(s.h) + s.payload.size(); }

class SegmentSizeTest : public TcpTest {
 protected:
  // Passive open over a path of MTU `mtu` (both sides offer mtu - 40), with SACK, timestamps
  // as asked, window scaling (so the window never limits a super-segment).
  void open(uint32_t mtu, bool ts, uint32_t tso_max = 0) {
    mtu_ = mtu;
    ts_ = ts;
    Config c = base_config();
    c.mss = static_cast<uint16_t>(mtu - 40);
    c.sack = true;
    c.timestamps = ts;
    c.window_scaling = true;
    c.recv_buffer = 1 << 20;
    c.send_buffer = 1 << 22;
    c.tso_max = tso_max;
    make(c);
    peer_syn(opts_syn(static_cast<uint16_t>(mtu - 40), 7, true,
                      ts ? std::optional<Timestamps>(Timestamps{peer_ts_, 0}) : std::nullopt));
    Sent synack = expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
    if (ts) our_ts_ = synack.h.opt.ts->val;
    advance(10 * kMs);
    peer_send(kIss + 1, {});
    ASSERT_EQ(conn->state(), State::kEstablished);
    ASSERT_EQ(conn->ts_enabled(), ts);
    expect_none();
    snd_ = kIss + 1;
  }
  TcpOptions ts_opt() {
    TcpOptions o;
    if (ts_) o.ts = Timestamps{++peer_ts_, our_ts_};
    return o;
  }
  // The peer sends `data` at rcv_nxt + offset (0: in order), acknowledging `ack`.
  void peer_send(uint32_t ack, std::string_view data, uint32_t offset = 0) {
    peer(F::ACK, kPeerIss + 1 + peer_sent_ + offset, ack, data, 65535, ts_opt());
    if (offset == 0) peer_sent_ += static_cast<uint32_t>(data.size());
  }
  // `holes` gaps in what the peer sends: each an out-of-order piece of 10 bytes, 100 apart.
  // Every piece draws an immediate ACK with SACK blocks; those are dropped here.
  void make_holes(size_t holes) {
    for (size_t i = 0; i < holes; ++i)
      peer_send(snd_una(), bytes(10, 'o'), static_cast<uint32_t>(100 + 100 * i));
    env.out.clear();
  }
  // The peer sends what fills every hole.
  void fill_holes(size_t holes) {
    peer_send(snd_una(), bytes(100 + 100 * holes, 'i'));
    env.out.clear();
  }
  uint32_t snd_una() const { return conn->snd_una().raw(); }

  // Pops every sent segment; checks that each fits the MTU, and that a data segment which is not
  // the last of the data is as long as its options allow (nothing wasted either).
  std::vector<Sent> take(bool super_segments = false) {
    std::vector<Sent> got;
    while (!env.out.empty()) {
      Sent s = std::move(env.out.front());
      env.out.pop_front();
      const uint32_t room = conn->payload_mss(s.h.opt);
      EXPECT_EQ(room + kIpv4Header + header_len(s.h), mtu_) << "payload_mss for these options";
      if (super_segments && s.payload.size() > room) {
        // TSO: the kernel cuts it into gso_size = room pieces, each with this header.
        EXPECT_EQ(s.payload.size() % room, 0u) << "a super-segment of whole segments";
      } else {
        EXPECT_LE(datagram_len(s), mtu_)
            << "seq " << s.h.seq.raw() << " sacks " << int(s.h.opt.sack_count);
      }
      got.push_back(std::move(s));
    }
    return got;
  }
  // The data segments of `segs` cover [from, from + n) in order with no hole or overlap.
  static void expect_contiguous(const std::vector<Sent>& segs, uint32_t from, size_t n) {
    uint32_t next = from;
    for (const Sent& s : segs) {
      if (s.payload.empty()) continue;
      EXPECT_EQ(s.h.seq.raw(), next);
      next = s.h.seq.raw() + static_cast<uint32_t>(s.payload.size());
    }
    EXPECT_EQ(next, from + n);
  }

  uint32_t mtu_ = 1500;
  bool ts_ = false;
  uint32_t peer_ts_ = 100;
  uint32_t our_ts_ = 0;
  uint32_t peer_sent_ = 0;
  uint32_t snd_ = kIss + 1;
};

// MTU, timestamps, holes in the received data (= SACK blocks, at most 3 beside timestamps).
class SegmentSizeMatrix : public SegmentSizeTest,
                          public ::testing::WithParamInterface<std::tuple<uint32_t, bool, int>> {};

TEST_P(SegmentSizeMatrix, DataSegmentsCarryingSackBlocksFitTheMtu) {
  const auto [mtu, ts, holes] = GetParam();
  open(mtu, ts);
  make_holes(static_cast<size_t>(holes));
  const size_t max_blocks = ts ? 3 : 4;
  const size_t blocks = std::min<size_t>(static_cast<size_t>(holes), max_blocks);
  const uint32_t full = mtu - 40 - (ts ? 12 : 0);  // snd_mss: what fits with no SACK block

  // Two segments' worth while the holes are open (the initial window at MTU 9000 is two
  // segments, RFC 6928): every one carries the SACK blocks and is shorter than snd_mss by
  // exactly their size, so the data takes three segments.
  const size_t n1 = 2 * full;
  ASSERT_EQ(app_send(bytes(n1, 'a')), n1);
  std::vector<Sent> first = take();
  ASSERT_GE(first.size(), 2u);
  for (size_t i = 0; i + 1 < first.size(); ++i) {
    EXPECT_EQ(first[i].h.opt.sack_count, blocks) << i;
    EXPECT_EQ(first[i].payload.size(), full - (4 + 8 * blocks)) << i;
    EXPECT_EQ(datagram_len(first[i]), mtu) << i;
  }
  // What the window let out so far, then the rest once the first are acknowledged.
  uint32_t out = 0;
  for (const Sent& s : first) out += static_cast<uint32_t>(s.payload.size());
  if (out < n1) {
    peer_send(snd_ + out, {});
    for (Sent& s : take()) first.push_back(std::move(s));
  }
  expect_contiguous(first, snd_, n1);

  // The peer fills the holes and acknowledges everything: no SACK block any more, segments are
  // full-sized again, and the sequence space goes on without a gap.
  fill_holes(static_cast<size_t>(holes));
  peer_send(snd_ + static_cast<uint32_t>(n1), {});
  env.out.clear();
  EXPECT_EQ(conn->pipe(), 0u);
  EXPECT_TRUE(conn->scoreboard().empty());
  const size_t n2 = 2 * full;
  ASSERT_EQ(app_send(bytes(n2, 'b')), n2);
  std::vector<Sent> second = take();
  ASSERT_EQ(second.size(), 2u);
  for (const Sent& s : second) {
    EXPECT_EQ(s.h.opt.sack_count, 0);
    EXPECT_EQ(s.payload.size(), full);
  }
  expect_contiguous(second, snd_ + static_cast<uint32_t>(n1), n2);
  peer_send(snd_ + static_cast<uint32_t>(n1 + n2), {});
  EXPECT_EQ(conn->pipe(), 0u);
  EXPECT_TRUE(conn->scoreboard().empty());
  EXPECT_EQ(conn->snd_una(), conn->snd_nxt());
}

// 576 is the smallest --mtu (the IPv4 minimum reassembly size, RFC 791).
INSTANTIATE_TEST_SUITE_P(MtuTimestampsHoles, SegmentSizeMatrix,
                         ::testing::Combine(::testing::Values(576u, 1500u, 9000u),
                                            ::testing::Bool(), ::testing::Values(1, 2, 3, 4)));

TEST_F(SegmentSizeTest, DsackBlockComesOutOfThePayloadToo) {
  open(1500, true);
  peer_send(snd_una(), bytes(500, 'd'));
  make_holes(2);  // out-of-order pieces at 600 and 700
  ASSERT_EQ(app_send(bytes(30 * 1448, 'a')), 30u * 1448);
  std::vector<Sent> first = take();  // the initial window, each with two SACK blocks
  ASSERT_GE(first.size(), 2u);
  EXPECT_EQ(first[0].h.opt.sack_count, 2);
  EXPECT_EQ(first[0].payload.size(), 1448u - 20u);
  // The peer sends [250, 550) again (250 bytes it sent before, RFC 2883 4: a D-SACK) and
  // acknowledges two of our segments: the data that goes now carries the ACK, the D-SACK first
  // and the two SACK blocks, three in all, and is cut to fit them.
  const uint32_t acked = static_cast<uint32_t>(first[0].payload.size() + first[1].payload.size());
  peer(F::ACK, kPeerIss + 1 + 250, snd_ + acked, bytes(300, 'd'), 65535, ts_opt());
  std::vector<Sent> segs = take();
  ASSERT_GE(segs.size(), 2u);
  EXPECT_EQ(segs[0].h.opt.sack_count, 3);
  EXPECT_EQ(segs[0].h.opt.sack[0].left.raw(), kPeerIss + 1 + 250);  // the D-SACK goes first
  EXPECT_EQ(segs[0].payload.size(), 1448u - 28u);
  EXPECT_EQ(segs[1].h.opt.sack_count, 2);  // once
  EXPECT_EQ(segs[1].payload.size(), 1448u - 20u);
  for (Sent& s : segs) first.push_back(std::move(s));
  expect_contiguous(first, snd_, conn->snd_nxt().since(Seq(snd_)));
}

TEST_F(SegmentSizeTest, TsoSuperSegmentGsoSizeFitsTheMtuWithItsSackBlocks) {
  open(1500, true, 65535 - 20 - 60);
  make_holes(3);
  const size_t n = 200000;
  ASSERT_EQ(app_send(bytes(n, 's')), n);
  std::vector<Sent> segs = take(/*super_segments=*/true);
  ASSERT_FALSE(segs.empty());
  bool saw_super = false;
  for (const Sent& s : segs) {
    const uint32_t gso = conn->payload_mss(s.h.opt);
    EXPECT_EQ(s.h.opt.sack_count, 3);
    EXPECT_EQ(gso, 1448u - 28u);  // 1500 - 40 - 12 (timestamps) - 28 (three SACK blocks)
    saw_super = saw_super || s.payload.size() > gso;
  }
  EXPECT_TRUE(saw_super);
  expect_contiguous(segs, snd_, conn->snd_nxt().since(Seq(snd_)));
}

// A segment sent full-sized before the holes opened is lost; its retransmission carries SACK
// blocks and is cut to what fits beside them, and the rest of it follows: nothing is lost or
// sent twice in the scoreboard, and everything is acknowledged in the end.
TEST_F(SegmentSizeTest, RetransmissionIsCutToFitItsSackBlocks) {
  open(1500, true);
  const uint32_t full = 1448;
  ASSERT_EQ(app_send(bytes(2 * full, 'r')), 2 * full);
  std::vector<Sent> sent = take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].payload.size(), full);
  make_holes(3);  // out-of-order data from the peer; our two segments are lost
  // A loss probe (the tail) first, then the RTO (the head).
  std::vector<Sent> again;
  const Sent* head = nullptr;
  for (int i = 0; i < 10 && !head; ++i) {
    advance(conn->rto_us() / 2);
    for (Sent& s : take()) again.push_back(std::move(s));
    for (const Sent& s : again)
      if (!head && s.h.seq.raw() == snd_) head = &s;
  }
  ASSERT_NE(head, nullptr) << "the head was not retransmitted";
  EXPECT_EQ(head->h.opt.sack_count, 3);
  EXPECT_EQ(head->payload.size(), full - 28);
  // The peer acknowledges what arrives; every retransmission fits, until all is through.
  // Each retransmission from the head on is cut to fit; the peer acknowledges each as it comes.
  uint32_t next = snd_ + static_cast<uint32_t>(head->payload.size());
  peer_send(next, {});
  for (int round = 0; round < 20 && conn->snd_una() != conn->snd_nxt(); ++round) {
    advance(kMs);
    for (const Sent& s : take()) {
      if (s.payload.empty()) continue;
      EXPECT_LE(s.h.seq.raw(), next) << "a hole in what was retransmitted";
      next = std::max(next, s.h.seq.raw() + static_cast<uint32_t>(s.payload.size()));
    }
    peer_send(next, {});
  }
  EXPECT_EQ(conn->snd_una().raw(), snd_ + 2 * full);
  EXPECT_EQ(conn->pipe(), 0u);
  EXPECT_TRUE(conn->scoreboard().empty());
}

// A tail loss probe of new data is cut like any first transmission.
TEST_F(SegmentSizeTest, LossProbeFitsWithSackBlocks) {
  open(1500, true);
  make_holes(3);
  ASSERT_EQ(app_send(bytes(1000, 'p')), 1000u);
  take();
  // More data than the window lets out at once would not be a probe; instead wait for the
  // PTO: the probe resends the tail (or sends new data), and fits either way.
  advance(conn->rto_us());
  for (const Sent& s : take()) EXPECT_LE(datagram_len(s), 1500u);
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
