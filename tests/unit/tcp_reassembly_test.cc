// Out-of-order data: the Reassembly range list and SackTracker types, and the connection
// storing out-of-order bytes in its receive buffer (RFC 9293 3.10.7.4 "seventh", RFC 5681 4.2).
#include <random>

#include "proto/tcp/reassembly.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;

using R = Reassembly::Insert;

TEST(TcpReassembly, InsertsSorted) {
  Reassembly q(8);
  EXPECT_EQ(q.insert(Seq(200), 10), R::kStored);
  EXPECT_EQ(q.insert(Seq(100), 10), R::kStored);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.front().seq.raw(), 100u);
  EXPECT_EQ(q.stored_bytes(), 20u);
}

TEST(TcpReassembly, FullyCoveredSegmentIsDuplicate) {
  Reassembly q(8);
  q.insert(Seq(100), 100);
  EXPECT_EQ(q.insert(Seq(150), 10), R::kDuplicate);
  EXPECT_EQ(q.insert(Seq(100), 100), R::kDuplicate);
  EXPECT_EQ(q.stored_bytes(), 100u);
}

TEST(TcpReassembly, OverlappingAndTouchingRangesMerge) {
  Reassembly q(8);
  q.insert(Seq(100), 100);
  EXPECT_EQ(q.insert(Seq(150), 100), R::kStored);  // [150,250) overlaps [100,200)
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front().seq.raw(), 100u);
  EXPECT_EQ(q.front().len, 150u);
  q.insert(Seq(250), 10);  // touches: one range [100,260)
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front().len, 160u);
  q.insert(Seq(80), 30);  // [80,110)
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front().seq.raw(), 80u);
  EXPECT_EQ(q.stored_bytes(), 180u);
}

TEST(TcpReassembly, LargerSegmentSwallowsSeveralRanges) {
  Reassembly q(8);
  q.insert(Seq(100), 10);
  q.insert(Seq(300), 10);
  q.insert(Seq(600), 10);
  q.insert(Seq(50), 500);  // [50,550) covers the first two
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.front().seq.raw(), 50u);
  EXPECT_EQ(q.front().len, 500u);
  EXPECT_EQ(q.at(1).seq.raw(), 600u);
  EXPECT_EQ(q.stored_bytes(), 510u);
}

TEST(TcpReassembly, FullListEvictsHighestForLowerRange) {
  Reassembly q(2);
  q.insert(Seq(100), 10);
  q.insert(Seq(300), 10);
  EXPECT_EQ(q.insert(Seq(500), 10), R::kNoRoom);
  EXPECT_EQ(q.insert(Seq(310), 10), R::kStored);  // merging needs no new entry
  EXPECT_EQ(q.insert(Seq(200), 10), R::kStored);  // evicts [300,320)
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.at(1).seq.raw(), 200u);
  EXPECT_EQ(q.stored_bytes(), 20u);
}

TEST(TcpReassembly, BlockContainingAndOverlap) {
  Reassembly q(8);
  q.insert(Seq(100), 10);
  q.insert(Seq(110), 10);
  q.insert(Seq(130), 10);
  EXPECT_EQ(q.block_containing(Seq(105)), (SackBlock{Seq(100), Seq(120)}));
  EXPECT_EQ(q.block_containing(Seq(135)), (SackBlock{Seq(130), Seq(140)}));
  EXPECT_FALSE(q.block_containing(Seq(125)));
  EXPECT_EQ(q.overlap(Seq(90), Seq(105)), (SackBlock{Seq(100), Seq(105)}));
  EXPECT_EQ(q.overlap(Seq(118), Seq(135)), (SackBlock{Seq(118), Seq(120)}));
  EXPECT_FALSE(q.overlap(Seq(120), Seq(130)));
}

TEST(TcpReassembly, WorksAcrossSequenceWrap) {
  Reassembly q(8);
  q.insert(Seq(0xffffffa0), 100);  // wraps past zero
  q.insert(Seq(0x0), 100);         // overlaps it
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front().seq.raw(), 0xffffffa0u);
  EXPECT_EQ(q.front().len, 196u);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.stored_bytes(), 0u);
}

// The range list against a bitmap model under random inserts.
TEST(TcpReassembly, MatchesABitmapModel) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    Reassembly q(Reassembly::kCapacity);
    std::vector<bool> model(4000, false);
    const uint32_t base = 0xfffff000u + static_cast<uint32_t>(rng() % 8192);
    for (int i = 0; i < 60; ++i) {
      uint32_t off = rng() % 3900, len = 1 + rng() % 100;
      bool all = true;
      for (uint32_t k = off; k < off + len; ++k) all = all && model[k];
      auto r = q.insert(Seq(base + off), len);
      ASSERT_EQ(r == R::kDuplicate, all);
      ASSERT_NE(r, R::kNoRoom);
      for (uint32_t k = off; k < off + len; ++k) model[k] = true;
    }
    size_t bytes = 0, ranges = 0;
    for (size_t k = 0; k < model.size(); ++k) {
      bytes += model[k];
      if (model[k] && (k == 0 || !model[k - 1])) {
        ASSERT_LT(ranges, q.size());
        EXPECT_EQ(q.at(ranges).seq, Seq(base + static_cast<uint32_t>(k)));
        ++ranges;
      }
    }
    EXPECT_EQ(ranges, q.size());
    EXPECT_EQ(bytes, q.stored_bytes());
  }
}

TEST(TcpSackTracker, DropsBlocksBelowRcvNxt) {
  Reassembly q(8);
  SackTracker t;
  q.insert(Seq(100), 10);
  t.on_segment(Seq(100));
  SackBlock out[4];
  EXPECT_EQ(t.build(q, Seq(50), 4, out), 1u);
  q.pop_front();
  EXPECT_EQ(t.build(q, Seq(110), 4, out), 0u);
}

class Reorder : public TcpTest {};

TEST_F(Reorder, HoleFillDeliversEverythingWithoutHoldingBuffers) {
  establish_passive();
  peer(F::ACK, P + 3, S, "def");
  expect(F::ACK, S, P);  // immediate duplicate ACK
  peer(F::ACK, P + 6, S, "ghi");
  expect(F::ACK, S, P);
  EXPECT_EQ(conn->ooo_ranges(), 1u);  // [3,9) is one range
  peer(F::ACK, P, S, "abc");
  EXPECT_EQ(env.received, "abcdefghi");
  expect(F::ACK, S, P + 9);  // immediate ACK on filling the hole
  EXPECT_EQ(conn->stats().ooo_segments, 2u);
}

TEST_F(Reorder, PartialHoleFillAcksAtOnce) {
  establish_passive();
  peer(F::ACK, P + 6, S, "ghi");
  expect(F::ACK, S, P);
  peer(F::ACK, P, S, "abc");
  expect(F::ACK, S, P + 3);
  EXPECT_EQ(env.received, "abc");
  EXPECT_EQ(conn->ooo_ranges(), 1u);
  peer(F::ACK, P + 3, S, "def");
  expect(F::ACK, S, P + 9);
  EXPECT_EQ(env.received, "abcdefghi");
  EXPECT_EQ(conn->ooo_ranges(), 0u);
}

TEST_F(Reorder, OverlappingRetransmissionsDeliverEachByteOnce) {
  establish_passive();
  peer(F::ACK, P + 2, S, "cdef");
  peer(F::ACK, P + 4, S, "efgh");
  peer(F::ACK, P + 1, S, "bcd");
  peer(F::ACK, P, S, "ab");
  EXPECT_EQ(env.received, "abcdefgh");
  EXPECT_EQ(conn->stats().bytes_in, 8u);
}

TEST_F(Reorder, OutOfOrderBeyondWindowIsDropped) {
  Config c = base_config();
  c.recv_buffer = 1000;
  make(c);
  establish_passive();
  peer(F::ACK, P + 2000, S, "zz");
  expect(F::ACK, S, P);
  EXPECT_EQ(conn->ooo_ranges(), 0u);
  peer(F::ACK, P + 990, S, "0123456789");  // straddles the right edge: the head is kept
  expect(F::ACK, S, P);
  peer(F::ACK, P, S, std::string(990, 'x'));
  expect(F::ACK, S, P + 1000);
  EXPECT_EQ(env.received.size(), 1000u);
  EXPECT_EQ(env.received.substr(990), "0123456789");
}

TEST_F(Reorder, RangesBoundedByConfig) {
  Config c = base_config();
  c.max_ooo_ranges = 2;
  make(c);
  establish_passive();
  peer(F::ACK, P + 10, S, "a");
  peer(F::ACK, P + 20, S, "b");
  peer(F::ACK, P + 30, S, "c");  // above all, list full: dropped, not SACKed
  EXPECT_EQ(conn->ooo_ranges(), 2u);
  peer(F::ACK, P + 5, S, "d");  // lower: evicts the highest
  EXPECT_EQ(conn->ooo_ranges(), 2u);
  peer(F::ACK, P, S, "01234");  // fills up to "d": [5,6) joins, [10,11) stays out of order
  EXPECT_EQ(env.received, "01234d");
  EXPECT_EQ(conn->ooo_ranges(), 1u);
}

// Many holes in a large window (a lossy fast path): every byte arrives exactly once, whatever
// the order, and nothing pins a packet buffer.
TEST_F(Reorder, ManyHolesInALargeWindow) {
  Config c = base_config();
  c.recv_buffer = 1 << 20;
  c.window_scaling = true;
  make(c);
  peer_syn(opts_syn(1460, 7));  // window scaling: the whole buffer is offered
  env.out.clear();
  peer(F::ACK, P, S, {});
  ASSERT_EQ(conn->state(), State::kEstablished);
  const size_t kSeg = 1000, kCount = 500;  // 250 holes
  std::string all;
  for (size_t i = 0; i < kCount * kSeg; ++i) all.push_back(static_cast<char>('a' + (i * 7) % 26));
  std::vector<size_t> order;
  for (size_t i = 1; i < kCount; i += 2) order.push_back(i);  // every odd segment first
  for (size_t i = 0; i < kCount; i += 2) order.push_back(i);
  for (size_t i : order) peer(F::ACK, P + static_cast<uint32_t>(i * kSeg), S, all.substr(i * kSeg, kSeg));
  EXPECT_EQ(env.received.size(), all.size());
  EXPECT_TRUE(env.received == all);  // (not EXPECT_EQ: half a megabyte of diff)
  EXPECT_EQ(conn->ooo_ranges(), 0u);
}

TEST_F(Reorder, InOrderDataNotConsumedIsCopiedAndBufferNotHeld) {
  establish_passive();
  env.consume_limit = 0;
  peer(F::ACK, P + 3, S, "def");
  peer(F::ACK, P, S, "abc");
  EXPECT_EQ(conn->readable(), 6u);
  uint8_t buf[6];
  conn->read(buf, now);
  EXPECT_EQ(std::string(buf, buf + 6), "abcdef");
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
