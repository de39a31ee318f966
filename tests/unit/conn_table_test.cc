#include "engine/conn_table.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

using tuntcp::engine::ConnTable;
using tuntcp::proto::FlowKey;

namespace {
FlowKey key(uint32_t i) {
  return FlowKey{0xc6120001, 0xc6120002, static_cast<uint16_t>(40000 + i % 20000),
                 static_cast<uint16_t>(5201 + i / 20000), 6};
}
}  // namespace

TEST(ConnTable, InsertFindErase) {
  ConnTable t(100);
  EXPECT_EQ(t.find(key(1)), ConnTable::kNone);
  EXPECT_TRUE(t.insert(key(1), 7));
  EXPECT_FALSE(t.insert(key(1), 8));  // duplicate
  EXPECT_EQ(t.find(key(1)), 7u);
  EXPECT_TRUE(t.erase(key(1)));
  EXPECT_FALSE(t.erase(key(1)));
  EXPECT_EQ(t.find(key(1)), ConnTable::kNone);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTable, RefusesBeyondCapacity) {
  ConnTable t(10);
  for (uint32_t i = 0; i < 10; ++i) EXPECT_TRUE(t.insert(key(i), i));
  EXPECT_FALSE(t.insert(key(10), 10));
  EXPECT_TRUE(t.erase(key(3)));
  EXPECT_TRUE(t.insert(key(10), 10));
}

TEST(ConnTable, ChurnMatchesAReferenceMap) {
  // Random inserts and erases; backward-shift deletion must keep every key reachable.
  ConnTable t(1000);
  std::unordered_map<uint32_t, uint32_t> ref;
  std::mt19937 rng(42);
  for (int op = 0; op < 200000; ++op) {
    const uint32_t k = rng() % 3000;
    if (rng() % 2 && ref.size() < 1000) {
      const bool fresh = !ref.count(k);
      EXPECT_EQ(t.insert(key(k), k + 1), fresh);
      ref.emplace(k, k + 1);
    } else {
      EXPECT_EQ(t.erase(key(k)), ref.erase(k) == 1);
    }
    if (op % 1000 == 0) {
      for (uint32_t q = 0; q < 3000; ++q) {
        auto it = ref.find(q);
        ASSERT_EQ(t.find(key(q)), it == ref.end() ? ConnTable::kNone : it->second) << "op " << op;
      }
    }
  }
  EXPECT_EQ(t.size(), ref.size());
}
