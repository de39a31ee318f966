#include "engine/conn_table.h"

namespace tuntcp::engine {

ConnTable::ConnTable(uint32_t max_entries) : max_(max_entries) {
  uint32_t cap = 16;
  while (cap < 2ull * max_entries) cap <<= 1;
  entries_.resize(cap);
  mask_ = cap - 1;
}

uint32_t ConnTable::find(const proto::FlowKey& k) const {
  for (uint32_t i = home(k);; i = (i + 1) & mask_) {
    const Entry& e = entries_[i];
    if (e.value == kNone) return kNone;
    if (e.key == k) return e.value;
  }
}

bool ConnTable::insert(const proto::FlowKey& k, uint32_t value) {
  if (size_ >= max_ || value == kNone) return false;
  for (uint32_t i = home(k);; i = (i + 1) & mask_) {
    Entry& e = entries_[i];
    if (e.value == kNone) {
      e.key = k;
      e.value = value;
      ++size_;
      return true;
    }
    if (e.key == k) return false;
  }
}

bool ConnTable::erase(const proto::FlowKey& k) {
  uint32_t i = home(k);
  for (;; i = (i + 1) & mask_) {
    if (entries_[i].value == kNone) return false;
    if (entries_[i].key == k) break;
  }
  // Backward-shift: pull later entries of the probe run into the hole when their home slot
  // allows it, so every remaining key stays reachable from its home without tombstones.
  uint32_t hole = i;
  for (uint32_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
    Entry& e = entries_[j];
    if (e.value == kNone) break;
    const uint32_t h = home(e.key);
    // e may move to `hole` if its home is not in (hole, j] (cyclically).
    const bool home_between = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
    if (!home_between) {
      entries_[hole] = e;
      hole = j;
    }
  }
  entries_[hole] = Entry{};
  --size_;
  return true;
}

}  // namespace tuntcp::engine
