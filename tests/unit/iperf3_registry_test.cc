// The registry that tells an iperf3 test's connections apart across workers by their cookie:
// one test at a time, streams only while the test waits for them and only as many as it
// expects, the server freed at the end, and a wedged test evicted after its deadline.
#include "engine/services/iperf3_registry.h"

#include <gtest/gtest.h>

#include "engine/services/iperf3_stream.h"

namespace i3 = tuntcp::engine::services::iperf3;
using Kind = i3::Registry::Admission::Kind;
using tuntcp::proto::FlowKey;

namespace {

i3::Cookie cookie(char c) {
  i3::Cookie k{};
  for (size_t i = 0; i + 1 < k.size(); ++i) k[i] = static_cast<uint8_t>(c);
  return k;
}
FlowKey key(uint16_t port) { return FlowKey{0xc6120001, 0xc6120002, port, 5201, 6}; }

// Each test leaves the registry free for the next.
class Iperf3Registry : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& t : tests_) reg_.release(t);
    EXPECT_FALSE(reg_.busy());
  }
  std::shared_ptr<i3::Test> start(char c, uint64_t now = 0) {
    auto a = reg_.admit(cookie(c), 0, key(40000), 40000, now, now + 1000);
    EXPECT_EQ(a.kind, Kind::kControl);
    tests_.push_back(a.test);
    return a.test;
  }
  i3::Registry& reg_ = i3::Registry::instance();
  std::vector<std::shared_ptr<i3::Test>> tests_;
};

}  // namespace

TEST_F(Iperf3Registry, StreamsJoinInOrderWithIperf3Ids) {
  auto t = start('a');
  reg_.expect_streams(t, 2, 2, 5000);  // --bidir -P 2: the client's sending streams come first
  std::vector<std::shared_ptr<i3::StreamSession>> got;
  for (uint16_t i = 0; i < 4; ++i) {
    auto a = reg_.admit(cookie('a'), i % 3, key(41000 + i), 41000 + i, 10, 1010);
    ASSERT_EQ(a.kind, Kind::kStream) << i;
    EXPECT_EQ(a.test, t);
    EXPECT_EQ(a.all_connected, i == 3) << i;
    got.push_back(a.stream);
  }
  EXPECT_EQ(got[0]->id(), 1);
  EXPECT_EQ(got[1]->id(), 3);
  EXPECT_EQ(got[2]->id(), 4);
  EXPECT_EQ(got[3]->id(), 5);
  EXPECT_FALSE(got[0]->sends());
  EXPECT_FALSE(got[1]->sends());
  EXPECT_TRUE(got[2]->sends());
  EXPECT_TRUE(got[3]->sends());
  EXPECT_EQ(got[1]->worker(), 1u);
  EXPECT_EQ(reg_.streams(t).size(), 4u);
  // One stream too many (or a late one) is refused, like any connection during a test.
  EXPECT_EQ(reg_.admit(cookie('a'), 0, key(42000), 42000, 20, 1020).kind, Kind::kDenied);
}

// The issue behind an end-of-test hang: cookies arrive out of the order the client opened the
// streams in (a busy worker, a lost segment), yet ids and directions follow the opening order.
TEST_F(Iperf3Registry, StreamRolesFollowTheOpenOrderNotTheCookieOrder) {
  auto t = start('a');
  reg_.expect_streams(t, 2, 2, 5000);  // --bidir -P 2
  // Opened as 100, 101, 102, 103 (say on workers 0, 1, 2, 0); cookies in as 103, 101, 100, 102.
  const uint64_t arrival[] = {103, 101, 100, 102};
  std::vector<std::shared_ptr<i3::StreamSession>> got;
  for (size_t i = 0; i < 4; ++i) {
    const uint64_t order = arrival[i];
    auto a = reg_.admit(cookie('a'), static_cast<uint32_t>(order % 3),
                        key(static_cast<uint16_t>(41000 + order)), order, 10, 1010);
    ASSERT_EQ(a.kind, Kind::kStream) << i;
    EXPECT_EQ(a.all_connected, i == 3) << i;
    got.push_back(a.stream);
  }
  auto by_order = [&](uint64_t order) {
    for (auto& st : got)
      if (st->open_order() == order) return st;
    return std::shared_ptr<i3::StreamSession>();
  };
  EXPECT_EQ(by_order(100)->id(), 1);
  EXPECT_EQ(by_order(101)->id(), 3);
  EXPECT_EQ(by_order(102)->id(), 4);
  EXPECT_EQ(by_order(103)->id(), 5);
  EXPECT_FALSE(by_order(100)->sends());
  EXPECT_FALSE(by_order(101)->sends());
  EXPECT_TRUE(by_order(102)->sends());
  EXPECT_TRUE(by_order(103)->sends());
  EXPECT_EQ(by_order(101)->key().remote_port, 41101);
  // The control connection sees them in the client's order.
  const auto streams = reg_.streams(t);
  ASSERT_EQ(streams.size(), 4u);
  for (size_t i = 0; i < streams.size(); ++i) EXPECT_EQ(streams[i]->open_order(), 100 + i);
}

TEST_F(Iperf3Registry, SecondClientIsDenied) {
  start('a');
  EXPECT_EQ(reg_.admit(cookie('b'), 1, key(40001), 40001, 5, 1005).kind, Kind::kDenied);
  EXPECT_TRUE(reg_.busy());
}

TEST_F(Iperf3Registry, StreamsBeforeTheParametersAreDenied) {
  start('a');
  EXPECT_EQ(reg_.admit(cookie('a'), 0, key(40001), 40001, 5, 1005).kind, Kind::kDenied);
}

TEST_F(Iperf3Registry, ReleaseFreesTheServer) {
  auto t = start('a');
  reg_.expect_streams(t, 1, 0, 5000);
  ASSERT_EQ(reg_.admit(cookie('a'), 0, key(41000), 41000, 10, 1010).kind, Kind::kStream);
  EXPECT_EQ(reg_.release(t).size(), 1u);
  EXPECT_FALSE(reg_.busy());
  EXPECT_EQ(t->phase, i3::Test::Phase::kClosed);
  reg_.release(t);  // twice is harmless
  start('b');
  // The released test takes no more streams, even with its cookie.
  EXPECT_EQ(reg_.admit(cookie('a'), 0, key(41001), 41001, 20, 1020).kind, Kind::kDenied);
}

TEST_F(Iperf3Registry, AWedgedTestIsEvictedAfterItsDeadline) {
  auto t = start('a', 0);  // deadline 1000
  EXPECT_EQ(reg_.admit(cookie('b'), 0, key(40001), 40001, 1000, 2000).kind, Kind::kDenied);
  auto a = reg_.admit(cookie('b'), 1, key(40002), 40002, 1001, 2001);
  ASSERT_EQ(a.kind, Kind::kControl);
  tests_.push_back(a.test);
  EXPECT_TRUE(a.evicted);
  EXPECT_EQ(t->phase, i3::Test::Phase::kClosed);
  // The evicted test's late calls do not disturb the new one.
  reg_.expect_streams(t, 1, 0, UINT64_MAX);
  reg_.release(t);
  EXPECT_TRUE(reg_.busy());
  reg_.set_deadline(a.test, UINT64_MAX);  // a running test without a time limit (-n)
  EXPECT_EQ(reg_.admit(cookie('c'), 0, key(40003), 40003, UINT64_MAX - 1, 0).kind, Kind::kDenied);
}
