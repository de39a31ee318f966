// One worker's connection table: 4-tuple -> connection slot, open addressing with linear
// probing and backward-shift deletion (no tombstones, so lookups stay short under churn).
// Fixed capacity chosen at start-up from --max-connections: no rehash, no allocation later.
#pragma once

#include <cstdint>
#include <vector>

#include "proto/flow.h"

namespace tuntcp::engine {

class ConnTable {
 public:
  static constexpr uint32_t kNone = ~uint32_t{0};

  // Room for `max_entries` at a load factor of at most 1/2.
  explicit ConnTable(uint32_t max_entries);

  uint32_t find(const proto::FlowKey& k) const;
  // Inserts k -> value; returns false if k is present or the table is full.
  bool insert(const proto::FlowKey& k, uint32_t value);
  // Removes k; returns false if absent.
  bool erase(const proto::FlowKey& k);
  uint32_t size() const { return size_; }
  uint32_t max_entries() const { return max_; }

 private:
  struct Entry {
    proto::FlowKey key;
    uint32_t value = kNone;  // kNone = empty
  };
  uint32_t home(const proto::FlowKey& k) const { return proto::flow_hash(k) & mask_; }

  std::vector<Entry> entries_;
  uint32_t mask_;
  uint32_t max_;
  uint32_t size_ = 0;
};

}  // namespace tuntcp::engine
