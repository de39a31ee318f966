#include "engine/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using tuntcp::engine::TimerNode;
using tuntcp::engine::TimerWheel;

TEST(TimerWheel, FiresAtDeadlineNotBefore) {
  TimerWheel w(0, 1000, 64);
  TimerNode n;
  w.schedule(&n, 5500);
  int fired = 0;
  w.advance(5499, [&](TimerNode*) { ++fired; });
  EXPECT_EQ(fired, 0);
  w.advance(5500, [&](TimerNode*) { ++fired; });
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(n.linked());
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, DeadlineBeyondOneTurnWaitsForItsTurn) {
  TimerWheel w(0, 1000, 16);  // one turn = 16 ms
  TimerNode n;
  w.schedule(&n, 40000);  // 2.5 turns ahead
  int fired = 0;
  for (uint64_t t = 0; t < 40000; t += 700) w.advance(t, [&](TimerNode*) { ++fired; });
  EXPECT_EQ(fired, 0);
  w.advance(40000, [&](TimerNode*) { ++fired; });
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, CancelAndRescheduleMoveTheNode) {
  TimerWheel w(0);
  TimerNode a, b;
  w.schedule(&a, 10000);
  w.schedule(&b, 20000);
  w.cancel(&a);
  w.schedule(&b, 5000);  // earlier
  std::vector<TimerNode*> fired;
  w.advance(30000, [&](TimerNode* n) { fired.push_back(n); });
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], &b);
}

TEST(TimerWheel, PastDeadlineFiresOnNextAdvance) {
  TimerWheel w(100000);
  TimerNode n;
  w.schedule(&n, 50);
  int fired = 0;
  w.advance(100000, [&](TimerNode*) { ++fired; });
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, CallbackMayRescheduleItself) {
  TimerWheel w(0);
  TimerNode n;
  w.schedule(&n, 1000);
  int fired = 0;
  for (uint64_t t = 0; t <= 10000; t += 500)
    w.advance(t, [&](TimerNode* x) {
      ++fired;
      w.schedule(x, t + 2000);
    });
  EXPECT_EQ(fired, 5);  // 1000, 3000, 5000, 7000, 9000
}

TEST(TimerWheel, RandomDeadlinesAllFireOnceAndInTime) {
  TimerWheel w(0, 1000, 256);
  std::mt19937_64 rng(7);
  std::vector<TimerNode> nodes(2000);
  for (auto& n : nodes) w.schedule(&n, rng() % 2000000);
  std::vector<int> count(nodes.size());
  for (uint64_t t = 0; t <= 2000000; t += 333) {
    w.advance(t, [&](TimerNode* n) {
      EXPECT_LE(n->deadline_us, t);
      EXPECT_GT(n->deadline_us + 1000, t - 333);  // not late by more than one advance step + tick
      ++count[n - nodes.data()];
    });
  }
  EXPECT_TRUE(std::all_of(count.begin(), count.end(), [](int c) { return c == 1; }));
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, WakeupHintPointsAtTheEarliestDueTick) {
  TimerWheel w(0, 1000, 64);
  TimerNode a, b;
  EXPECT_EQ(w.next_wakeup_hint(), 64000u);  // empty: one turn
  w.schedule(&a, 9500);
  w.schedule(&b, 70000);  // next turn, shares a slot index with tick 6
  EXPECT_EQ(w.next_wakeup_hint(), 9000u);
  w.cancel(&a);
  EXPECT_EQ(w.next_wakeup_hint(), 64000u);
}

TEST(TimerWheel, WakeupHintMatchesABruteForceScan) {
  // The hint skips empty slots with a bitmap; it must still find the earliest due tick.
  std::mt19937_64 rng(99);
  for (int round = 0; round < 200; ++round) {
    const uint64_t start = rng() % 10'000'000;
    TimerWheel w(start, 1000, 256);
    std::vector<TimerNode> nodes(1 + rng() % 20);
    uint64_t earliest = UINT64_MAX;
    for (auto& n : nodes) {
      const uint64_t d = start + rng() % 600'000;  // up to ~2.3 turns ahead
      w.schedule(&n, d);
      earliest = std::min(earliest, d);
    }
    const uint64_t turn_end = (start / 1000 + 256) * 1000;
    const uint64_t want = earliest < turn_end ? earliest / 1000 * 1000 : turn_end;
    EXPECT_EQ(w.next_wakeup_hint(), want) << "round " << round;
  }
}
