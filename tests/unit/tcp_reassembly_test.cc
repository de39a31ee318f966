// Out-of-order data: the Reassembly queue and SackTracker types, and the connection holding
// packet buffers instead of copying (RFC 9293 3.10.7.4 "seventh", RFC 5681 4.2).
#include "proto/tcp/reassembly.h"
#include "tests/unit/tcp_test_harness.h"

namespace tuntcp::proto::tcp::testing {
namespace {

constexpr uint32_t S = kIss + 1;
constexpr uint32_t P = kPeerIss + 1;

class Owner : public BufferOwner {
 public:
  void hold(uint32_t id) override { ++held[id]; }
  void release(uint32_t id) override {
    EXPECT_GT(held[id], 0);
    if (--held[id] == 0) held.erase(id);
  }
  std::map<uint32_t, int> held;
};

std::span<const uint8_t> sp(const std::vector<uint8_t>& v) { return v; }

TEST(TcpReassembly, InsertsSortedAndHoldsBuffers) {
  Reassembly q(8);
  Owner o;
  std::vector<uint8_t> a(10), b(10);
  EXPECT_EQ(q.insert(Seq(200), sp(a), 1, o), Reassembly::Insert::kHeld);
  EXPECT_EQ(q.insert(Seq(100), sp(b), 2, o), Reassembly::Insert::kHeld);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.front().seq.raw(), 100u);
  EXPECT_EQ(q.held_bytes(), 20u);
  EXPECT_EQ(o.held.size(), 2u);
}

TEST(TcpReassembly, FullyCoveredSegmentIsDuplicate) {
  Reassembly q(8);
  Owner o;
  std::vector<uint8_t> a(100), b(10);
  q.insert(Seq(100), sp(a), 1, o);
  EXPECT_EQ(q.insert(Seq(150), sp(b), 2, o), Reassembly::Insert::kDuplicate);
  EXPECT_EQ(o.held.count(2), 0u);
}

TEST(TcpReassembly, OverlapsAreTrimmed) {
  Reassembly q(8);
  Owner o;
  std::vector<uint8_t> a(100), b(100);
  for (size_t i = 0; i < 100; ++i) b[i] = static_cast<uint8_t>(i);
  q.insert(Seq(100), sp(a), 1, o);
  q.insert(Seq(150), sp(b), 2, o);  // [150,250) overlaps [100,200): keeps [200,250)
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.at(1).seq.raw(), 200u);
  EXPECT_EQ(q.at(1).len, 50u);
  EXPECT_EQ(q.at(1).data[0], 50);  // points 50 bytes into the buffer
  std::vector<uint8_t> c(30);
  q.insert(Seq(80), sp(c), 3, o);  // [80,110): keeps [80,100)
  EXPECT_EQ(q.front().seq.raw(), 80u);
  EXPECT_EQ(q.front().len, 20u);
}

TEST(TcpReassembly, LargerSegmentReplacesCoveredOnes) {
  Reassembly q(8);
  Owner o;
  std::vector<uint8_t> a(10), b(10), big(500);
  q.insert(Seq(100), sp(a), 1, o);
  q.insert(Seq(300), sp(b), 2, o);
  q.insert(Seq(50), sp(big), 3, o);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front().seq.raw(), 50u);
  EXPECT_EQ(q.front().len, 500u);
  EXPECT_EQ(o.held.size(), 1u);
  EXPECT_EQ(o.held.count(3), 1u);
}

TEST(TcpReassembly, FullQueueEvictsHighestForLowerSegment) {
  Reassembly q(2);
  Owner o;
  std::vector<uint8_t> a(10);
  q.insert(Seq(100), sp(a), 1, o);
  q.insert(Seq(300), sp(a), 2, o);
  EXPECT_EQ(q.insert(Seq(500), sp(a), 3, o), Reassembly::Insert::kNoRoom);
  EXPECT_EQ(q.insert(Seq(200), sp(a), 4, o), Reassembly::Insert::kHeld);
  EXPECT_EQ(o.held.count(2), 0u);
  EXPECT_EQ(q.at(1).seq.raw(), 200u);
}

TEST(TcpReassembly, BlockContainingMergesAdjacentEntries) {
  Reassembly q(8);
  Owner o;
  std::vector<uint8_t> a(10);
  q.insert(Seq(100), sp(a), 1, o);
  q.insert(Seq(110), sp(a), 2, o);
  q.insert(Seq(130), sp(a), 3, o);
  EXPECT_EQ(q.block_containing(Seq(105)), (SackBlock{Seq(100), Seq(120)}));
  EXPECT_EQ(q.block_containing(Seq(135)), (SackBlock{Seq(130), Seq(140)}));
  EXPECT_FALSE(q.block_containing(Seq(125)));
}

TEST(TcpReassembly, WorksAcrossSequenceWrap) {
  Reassembly q(8);
  Owner o;
  std::vector<uint8_t> a(100);
  q.insert(Seq(0xffffffa0), sp(a), 1, o);  // wraps past zero
  q.insert(Seq(0x0), sp(a), 2, o);            // overlaps the first 4 bytes after the wrap
  EXPECT_EQ(q.front().seq.raw(), 0xffffffa0u);
  EXPECT_EQ(q.at(1).seq.raw(), 0x4u);
  EXPECT_EQ(q.at(1).len, 96u);
  q.clear(o);
  EXPECT_TRUE(o.held.empty());
}

TEST(TcpSackTracker, DropsBlocksBelowRcvNxt) {
  Reassembly q(8);
  Owner o;
  SackTracker t;
  std::vector<uint8_t> a(10);
  q.insert(Seq(100), sp(a), 1, o);
  t.on_segment(Seq(100));
  SackBlock out[4];
  EXPECT_EQ(t.build(q, Seq(50), 4, out), 1u);
  q.pop_front(o);
  EXPECT_EQ(t.build(q, Seq(110), 4, out), 0u);
}

class Reorder : public TcpTest {};

TEST_F(Reorder, HoleFillDeliversEverythingAndReleasesBuffers) {
  establish_passive();
  peer(F::ACK, P + 3, S, "def");
  expect(F::ACK, S, P);  // immediate duplicate ACK
  peer(F::ACK, P + 6, S, "ghi");
  expect(F::ACK, S, P);
  EXPECT_EQ(env.held(), 2u);
  EXPECT_EQ(conn->ooo_held_buffers(), 2u);
  peer(F::ACK, P, S, "abc");
  EXPECT_EQ(env.received, "abcdefghi");
  expect(F::ACK, S, P + 9);  // immediate ACK on filling the hole
  EXPECT_EQ(env.held(), 0u);
  EXPECT_EQ(conn->stats().ooo_segments, 2u);
}

TEST_F(Reorder, PartialHoleFillAcksAtOnce) {
  establish_passive();
  peer(F::ACK, P + 6, S, "ghi");
  expect(F::ACK, S, P);
  peer(F::ACK, P, S, "abc");
  expect(F::ACK, S, P + 3);
  EXPECT_EQ(env.received, "abc");
  EXPECT_EQ(env.held(), 1u);
}

TEST_F(Reorder, OverlappingRetransmissionsDeliverEachByteOnce) {
  establish_passive();
  peer(F::ACK, P + 2, S, "cdef");
  peer(F::ACK, P + 4, S, "efgh");
  peer(F::ACK, P + 1, S, "bcd");
  peer(F::ACK, P, S, "ab");
  EXPECT_EQ(env.received, "abcdefgh");
  EXPECT_EQ(env.held(), 0u);
}

TEST_F(Reorder, OutOfOrderBeyondWindowIsDropped) {
  Config c = base_config();
  c.recv_buffer = 1000;
  make(c);
  establish_passive();
  peer(F::ACK, P + 2000, S, "zz");
  expect(F::ACK, S, P);
  EXPECT_EQ(env.held(), 0u);
}

TEST_F(Reorder, HeldBuffersBoundedByConfig) {
  Config c = base_config();
  c.max_ooo_buffers = 2;
  make(c);
  establish_passive();
  peer(F::ACK, P + 10, S, "a");
  peer(F::ACK, P + 20, S, "b");
  peer(F::ACK, P + 30, S, "c");  // above all, queue full: dropped
  EXPECT_EQ(env.held(), 2u);
  peer(F::ACK, P + 5, S, "d");  // lower: evicts the highest
  EXPECT_EQ(env.held(), 2u);
  EXPECT_EQ(conn->ooo_held_buffers(), 2u);
}

TEST_F(Reorder, BuffersReleasedOnReset) {
  establish_passive();
  peer(F::ACK, P + 10, S, "a");
  EXPECT_EQ(env.held(), 1u);
  peer(F::RST, P, 0);
  EXPECT_EQ(env.held(), 0u);
}

TEST_F(Reorder, BuffersReleasedWhenConnectionIsDestroyed) {
  establish_passive();
  peer(F::ACK, P + 10, S, "a");
  conn.reset();
  EXPECT_EQ(env.held(), 0u);
}

TEST_F(Reorder, UnholdablePayloadIsDroppedNotQueued) {
  establish_passive();
  SegmentIn s;
  s.hdr.flags = F::ACK;
  s.hdr.seq = Seq(P + 10);
  s.hdr.ack = Seq(S);
  s.hdr.window = 65535;
  uint8_t d[2] = {1, 2};
  s.payload = d;
  s.buffer = kNoBuffer;
  conn->on_segment(s, now);
  expect(F::ACK, S, P);
  EXPECT_EQ(conn->ooo_held_buffers(), 0u);
}

TEST_F(Reorder, InOrderDataNotConsumedIsCopiedAndBufferNotHeld) {
  establish_passive();
  env.consume_limit = 0;
  peer(F::ACK, P + 3, S, "def");
  peer(F::ACK, P, S, "abc");
  EXPECT_EQ(env.held(), 0u);  // the ring has a copy now
  EXPECT_EQ(conn->readable(), 6u);
  uint8_t buf[6];
  conn->read(buf, now);
  EXPECT_EQ(std::string(buf, buf + 6), "abcdef");
}

}  // namespace
}  // namespace tuntcp::proto::tcp::testing
