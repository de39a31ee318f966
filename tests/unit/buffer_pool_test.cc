// The packet buffer pool: partitions split the ids without overlap, exhaustion is back-pressure
// (kNoBuf, no crash), slots are disjoint and writable, buffers come home across threads through
// the return queues (directly or via ReturnBatch), and a multi-threaded hand-around ends with
// every buffer free exactly once.
#include "io/buffer_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "io/setup_error.h"

namespace tuntcp::io {
namespace {

// Allocates until exhaustion; returns every id handed out.
std::vector<BufId> alloc_all(Partition& p) {
  std::vector<BufId> ids;
  for (BufId id; (id = p.alloc()) != kNoBuf;) {
    ids.push_back(id);
    if (ids.size() > p.size() + 1) break;  // a broken pool must not loop forever
  }
  return ids;
}

// Every buffer of every partition is free exactly once: allocating everything yields exactly
// the partition's ids, each once, then kNoBuf. Leaves the pool all-free again.
void expect_all_free_exactly_once(BufferPool& pool) {
  for (uint32_t p = 0; p < pool.partitions(); ++p) {
    Partition& part = pool.partition(p);
    EXPECT_EQ(part.free_count() + part.returns_pending(), part.size()) << "partition " << p;
    auto ids = alloc_all(part);
    std::set<BufId> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), ids.size()) << "duplicate free buffers in partition " << p;
    EXPECT_EQ(ids.size(), part.size()) << "lost buffers in partition " << p;
    for (BufId id : ids) {
      EXPECT_GE(id, part.first());
      EXPECT_LT(id, part.first() + part.size());
    }
    EXPECT_EQ(part.alloc(), kNoBuf);
    for (BufId id : ids) part.free_local(id);
  }
}

// ----------------------------------------------------------------------------------------------
// Layout

TEST(BufferPool, ZeroSizesAreRejectedWithSetupError) {
  EXPECT_THROW(BufferPool(0, 16, 2048), SetupError);
  EXPECT_THROW(BufferPool(2, 0, 2048), SetupError);
  EXPECT_THROW(BufferPool(2, 16, 0), SetupError);
}

TEST(BufferPool, PartitionsAreDisjointAndCoverEveryId) {
  BufferPool pool(5, 37, 256);
  ASSERT_EQ(pool.partitions(), 5u);
  EXPECT_EQ(pool.total(), 5u * 37u);
  std::vector<int> owner(pool.total(), -1);
  for (uint32_t p = 0; p < pool.partitions(); ++p) {
    Partition& part = pool.partition(p);
    EXPECT_EQ(part.first(), p * 37);
    EXPECT_EQ(part.size(), 37u);
    EXPECT_EQ(part.free_count(), 37u);
    for (BufId id = part.first(); id < part.first() + part.size(); ++id) {
      ASSERT_LT(id, pool.total());
      EXPECT_EQ(owner[id], -1) << "id " << id << " in two partitions";
      owner[id] = static_cast<int>(p);
      EXPECT_EQ(pool.owner_of(id), p);
      EXPECT_TRUE(pool.valid(id));
    }
  }
  for (BufId id = 0; id < pool.total(); ++id) EXPECT_NE(owner[id], -1) << "id " << id;
  EXPECT_FALSE(pool.valid(pool.total()));
  EXPECT_FALSE(pool.valid(kNoBuf));
  expect_all_free_exactly_once(pool);
}

TEST(BufferPool, AllocHandsOutLowIdsFirst) {
  BufferPool pool(2, 8, 128);
  Partition& p1 = pool.partition(1);
  for (BufId want = 8; want < 16; ++want) EXPECT_EQ(p1.alloc(), want);
}

TEST(BufferPool, SlotsDoNotOverlapAndAreWritableOverSlotSize) {
  constexpr uint32_t kSlot = 2048 + 64;
  BufferPool pool(3, 50, kSlot);
  EXPECT_EQ(pool.slot_size(), kSlot);
  ASSERT_NE(pool.region(), nullptr);
  EXPECT_GE(pool.region_bytes(), size_t{pool.total()} * kSlot);
  for (BufId id = 0; id < pool.total(); ++id) {
    uint8_t* d = pool.data(id);
    ASSERT_GE(d, pool.region());
    ASSERT_LE(d + kSlot, pool.region() + pool.region_bytes());
    if (id > 0) {
      ASSERT_EQ(d, pool.data(id - 1) + kSlot) << "slots overlap or leave gaps";
    }
    std::memset(d, static_cast<int>(id & 0xff), kSlot);
    std::memcpy(d, &id, sizeof id);  // the id at the start...
    std::memcpy(d + kSlot - sizeof id, &id, sizeof id);  // ...and at the very end
  }
  // Writing each slot did not disturb any other.
  for (BufId id = 0; id < pool.total(); ++id) {
    const uint8_t* d = pool.data(id);
    BufId head, tail;
    std::memcpy(&head, d, sizeof head);
    std::memcpy(&tail, d + kSlot - sizeof tail, sizeof tail);
    ASSERT_EQ(head, id);
    ASSERT_EQ(tail, id);
    for (size_t i = sizeof id; i < kSlot - sizeof id; ++i)
      ASSERT_EQ(d[i], static_cast<uint8_t>(id & 0xff)) << "id " << id << " byte " << i;
  }
}

// ----------------------------------------------------------------------------------------------
// Exhaustion and freeing

TEST(BufferPool, AllocUntilExhaustionReturnsNoBufThenFreeMakesAllocWorkAgain) {
  BufferPool pool(2, 64, 256);
  Partition& p = pool.partition(0);
  auto ids = alloc_all(p);
  ASSERT_EQ(ids.size(), 64u);
  EXPECT_EQ(p.free_count(), 0u);
  // Back-pressure is an ordinary answer, as often as asked.
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(p.alloc(), kNoBuf);
  // The other partition is unaffected.
  EXPECT_NE(pool.partition(1).alloc(), kNoBuf);
  p.free_local(ids[17]);
  EXPECT_EQ(p.free_count(), 1u);
  EXPECT_EQ(p.alloc(), ids[17]);
  EXPECT_EQ(p.alloc(), kNoBuf);
  for (BufId id : ids) p.free_local(id);
  EXPECT_EQ(p.free_count(), 64u);
  EXPECT_EQ(alloc_all(p).size(), 64u);
}

TEST(BufferPool, ReturnedBuffersAreFoundByAllocWhenTheFreeListIsEmpty) {
  BufferPool pool(2, 100, 256);
  Partition& p = pool.partition(1);
  auto ids = alloc_all(p);
  ASSERT_EQ(ids.size(), 100u);
  ASSERT_EQ(p.alloc(), kNoBuf);
  p.give_back(ids.data(), 30);  // from this thread, through the return queue
  EXPECT_EQ(p.returns_pending(), 30u);
  EXPECT_EQ(p.free_count(), 0u);
  std::set<BufId> got;
  for (int i = 0; i < 30; ++i) {
    BufId id = p.alloc();
    ASSERT_NE(id, kNoBuf) << i;
    got.insert(id);
  }
  EXPECT_EQ(got, std::set<BufId>(ids.begin(), ids.begin() + 30));
  EXPECT_EQ(p.alloc(), kNoBuf);
  EXPECT_EQ(p.returns_pending(), 0u);
}

TEST(BufferPool, GiveBackFromOtherThreadsThenAllocDrainsTheReturnQueue) {
  BufferPool pool(3, 300, 256);
  Partition& p = pool.partition(2);
  auto ids = alloc_all(p);
  ASSERT_EQ(ids.size(), 300u);
  // Three threads give back disjoint thirds in uneven batches.
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      const size_t begin = t * 100u, end = begin + 100;
      size_t at = begin;
      size_t batch = 1;
      while (at < end) {
        const size_t n = std::min(batch, end - at);
        p.give_back(ids.data() + at, n);
        at += n;
        batch = batch % 13 + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(p.returns_pending(), 300u);
  EXPECT_EQ(p.free_count(), 0u);
  auto again = alloc_all(p);
  std::set<BufId> unique(again.begin(), again.end());
  EXPECT_EQ(again.size(), 300u);
  EXPECT_EQ(unique, std::set<BufId>(ids.begin(), ids.end()));
}

TEST(BufferPool, DrainReturnsMovesAtMostMaxIds) {
  BufferPool pool(1, 20, 64);
  Partition& p = pool.partition(0);
  auto ids = alloc_all(p);
  p.give_back(ids.data(), 10);
  BufId out[16];
  EXPECT_EQ(p.drain_returns(out, 4), 4u);
  EXPECT_EQ(p.drain_returns(out + 4, 16), 6u);
  EXPECT_EQ(p.drain_returns(out, 16), 0u);
  EXPECT_EQ(std::set<BufId>(out, out + 10), std::set<BufId>(ids.begin(), ids.begin() + 10));
  EXPECT_EQ(p.free_count(), 0u);  // drained ids belong to the caller now
}

TEST(BufferPool, ReclaimAllReturnsMakesEveryReturnedBufferFree) {
  BufferPool pool(4, 50, 128);
  std::vector<BufId> all;
  for (uint32_t p = 0; p < 4; ++p) {
    auto ids = alloc_all(pool.partition(p));
    all.insert(all.end(), ids.begin(), ids.end());
  }
  ASSERT_EQ(all.size(), 200u);
  // Returned from another thread, through ReturnBatch.
  std::thread([&] {
    ReturnBatch batch(pool);
    for (BufId id : all) batch.add(id);
    batch.flush();
  }).join();
  for (uint32_t p = 0; p < 4; ++p) {
    EXPECT_EQ(pool.partition(p).free_count(), 0u);
    EXPECT_EQ(pool.partition(p).returns_pending(), 50u);
  }
  pool.reclaim_all_returns();
  for (uint32_t p = 0; p < 4; ++p) {
    EXPECT_EQ(pool.partition(p).free_count(), 50u);
    EXPECT_EQ(pool.partition(p).returns_pending(), 0u);
  }
  expect_all_free_exactly_once(pool);
}

// ----------------------------------------------------------------------------------------------
// ReturnBatch

TEST(ReturnBatch, NothingIsHandedOverBeforeFlushForSmallBatches) {
  BufferPool pool(3, 100, 64);
  std::vector<BufId> held;
  for (uint32_t p = 0; p < 3; ++p)
    for (int i = 0; i < 10; ++i) held.push_back(pool.partition(p).alloc());
  ReturnBatch batch(pool);
  for (BufId id : held) batch.add(id);
  for (uint32_t p = 0; p < 3; ++p) EXPECT_EQ(pool.partition(p).returns_pending(), 0u);
  batch.flush();
  for (uint32_t p = 0; p < 3; ++p) EXPECT_EQ(pool.partition(p).returns_pending(), 10u);
  batch.flush();  // a second flush hands over nothing twice
  for (uint32_t p = 0; p < 3; ++p) EXPECT_EQ(pool.partition(p).returns_pending(), 10u);
  pool.reclaim_all_returns();
  expect_all_free_exactly_once(pool);
}

TEST(ReturnBatch, EachIdGoesToItsOwnersReturnQueue) {
  BufferPool pool(4, 64, 64);
  std::vector<BufId> held;
  std::mt19937 rng(1);
  for (uint32_t p = 0; p < 4; ++p) {
    auto ids = alloc_all(pool.partition(p));
    held.insert(held.end(), ids.begin(), ids.end());
  }
  std::shuffle(held.begin(), held.end(), rng);
  ReturnBatch batch(pool);
  for (BufId id : held) batch.add(id);
  batch.flush();
  for (uint32_t p = 0; p < 4; ++p) {
    Partition& part = pool.partition(p);
    BufId out[128];
    const size_t n = part.drain_returns(out, 128);
    EXPECT_EQ(n, 64u);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(pool.owner_of(out[i]), p) << out[i];
    for (size_t i = 0; i < n; ++i) part.free_local(out[i]);
  }
  expect_all_free_exactly_once(pool);
}

TEST(ReturnBatch, AFullStagingListIsHandedOverWithoutWaitingForFlush) {
  BufferPool pool(2, 1000, 64);
  auto ids = alloc_all(pool.partition(1));
  ReturnBatch batch(pool);
  for (BufId id : ids) batch.add(id);
  // Bounded staging: most of the 1000 must already be on their way.
  EXPECT_GE(pool.partition(1).returns_pending(), 1000u - 256u);
  batch.flush();
  EXPECT_EQ(pool.partition(1).returns_pending(), 1000u);
  pool.reclaim_all_returns();
  expect_all_free_exactly_once(pool);
}

// ----------------------------------------------------------------------------------------------
// Stress: 4 owner threads hand buffers around

TEST(BufferPoolStress, FourThreadsHandingBuffersAroundLoseAndDuplicateNothing) {
  constexpr uint32_t kThreads = 4;
  constexpr uint32_t kPerPartition = 2048;
  constexpr uint64_t kMaxOpsPerThread = 250000;  // 1M in all, or ~1 s, whichever comes first
  BufferPool pool(kThreads, kPerPartition, 64);
  // The "network": each thread's inbox of buffers handed to it by anyone.
  std::vector<std::unique_ptr<moodycamel::ConcurrentQueue<BufId>>> inbox;
  for (uint32_t t = 0; t < kThreads; ++t)
    inbox.push_back(std::make_unique<moodycamel::ConcurrentQueue<BufId>>());
  // One flag per buffer: set while some thread holds it. A duplicate alloc or a double free
  // shows up as a flag already in the state it is being moved to.
  std::unique_ptr<std::atomic<uint8_t>[]> in_use(new std::atomic<uint8_t>[pool.total()]);
  for (uint32_t i = 0; i < pool.total(); ++i) in_use[i].store(0);
  std::atomic<uint64_t> errors{0}, total_ops{0}, no_buf{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);

  auto worker = [&](uint32_t self) {
    Partition& own = pool.partition(self);
    ReturnBatch returns(pool);
    std::mt19937 rng(self + 100);
    uint64_t ops = 0;
    BufId got[64];
    while (true) {
      // Allocate a few and hand each to a random thread (possibly itself).
      const int want = 1 + static_cast<int>(rng() % 32);
      bool starved = false;
      for (int i = 0; i < want; ++i) {
        const BufId id = own.alloc();
        if (id == kNoBuf) {
          no_buf.fetch_add(1, std::memory_order_relaxed);
          starved = true;
          break;
        }
        if (pool.owner_of(id) != self || in_use[id].exchange(1) != 0) errors.fetch_add(1);
        std::memcpy(pool.data(id), &id, sizeof id);
        inbox[rng() % kThreads]->enqueue(id);
      }
      // Take what others handed us and give it back: to the owner via ReturnBatch, or own
      // buffers sometimes straight onto the free list.
      const size_t n = inbox[self]->try_dequeue_bulk(got, 64);
      for (size_t i = 0; i < n; ++i) {
        const BufId id = got[i];
        BufId stamp;
        std::memcpy(&stamp, pool.data(id), sizeof stamp);
        if (stamp != id || in_use[id].exchange(0) != 1) errors.fetch_add(1);
        if (pool.owner_of(id) == self && (rng() & 1))
          own.free_local(id);
        else
          returns.add(id);
      }
      if (rng() % 4 == 0) returns.flush();
      // Out of buffers and nothing to do: the holders are probably not running (4 threads may
      // share fewer cores), so let them.
      if (starved && n == 0) std::this_thread::yield();
      ops += n;
      if ((ops & 0xff) < n || n == 0) {
        if (ops >= kMaxOpsPerThread || std::chrono::steady_clock::now() >= deadline) break;
      }
    }
    returns.flush();
    total_ops.fetch_add(ops);
  };
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();

  EXPECT_EQ(errors.load(), 0u) << "a buffer was handed out twice or freed twice";
  EXPECT_GT(total_ops.load(), 10000u) << "the stress test did too little to mean anything";
  // Buffers still in flight in the inboxes come home now (single-threaded).
  for (uint32_t t = 0; t < kThreads; ++t) {
    BufId id;
    while (inbox[t]->try_dequeue(id)) {
      EXPECT_EQ(in_use[id].exchange(0), 1) << id;
      pool.partition(pool.owner_of(id)).free_local(id);
    }
  }
  for (uint32_t i = 0; i < pool.total(); ++i) EXPECT_EQ(in_use[i].load(), 0) << "id " << i;
  pool.reclaim_all_returns();
  expect_all_free_exactly_once(pool);
  RecordProperty("ops", std::to_string(total_ops.load()));
  RecordProperty("no_buf", std::to_string(no_buf.load()));
}

}  // namespace
}  // namespace tuntcp::io
