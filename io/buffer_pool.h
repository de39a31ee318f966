// The packet buffer pool: one mmap'd region (huge pages when the system has them) cut into
// fixed-size slots, split into partitions, one per owning thread.
//
// Ownership rules (README, "Architecture": buffers):
//  * Every buffer belongs to exactly one partition, and a partition to exactly one thread.
//  * A buffer has one user at a time; it travels between threads as a 32-bit BufId, never copied.
//  * Whoever is done with a buffer gives it back. The owner thread puts it straight on its free
//    list; any other thread pushes it to the owner's lock-free return queue (bulk, per batch),
//    which the owner drains when it needs buffers.
//  * Running out is normal back-pressure: alloc() returns kNoBuf and the caller counts it.
#pragma once

#include "io/concurrent_queue.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tuntcp::io {

using BufId = uint32_t;
inline constexpr BufId kNoBuf = ~BufId{0};

class BufferPool;

class Partition {
 public:
  // --- owner thread only ---
  // A free buffer, or kNoBuf when none is free even after draining the return queue.
  BufId alloc();
  void free_local(BufId id) { free_.push_back(id); }
  // Moves up to `max` returned buffers into `out` (for owners that keep their free buffers
  // elsewhere, such as a reader's provided-buffer ring). Returns how many.
  size_t drain_returns(BufId* out, size_t max) { return returns_.try_dequeue_bulk(out, max); }
  size_t free_count() const { return free_.size(); }

  // --- any thread ---
  void give_back(const BufId* ids, size_t n) { returns_.enqueue_bulk(ids, n); }
  size_t returns_pending() const { return returns_.size_approx(); }

  BufId first() const { return first_; }
  uint32_t size() const { return size_; }

 private:
  friend class BufferPool;
  BufId first_ = 0;
  uint32_t size_ = 0;
  std::vector<BufId> free_;  // reserved to size_: push/pop never allocate
  moodycamel::ConcurrentQueue<BufId> returns_;
};

class BufferPool {
 public:
  // `slots_per_partition` buffers of `slot_size` bytes for each of `partitions` owners.
  // Throws SetupError when the memory cannot be had.
  BufferPool(uint32_t partitions, uint32_t slots_per_partition, uint32_t slot_size);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  uint8_t* data(BufId id) const { return base_ + static_cast<size_t>(id) * slot_size_; }
  // References to a buffer held by its current user thread (the packet path and, for TCP,
  // the reassembly queue). Only the thread that has the buffer touches its count.
  uint16_t& refs(BufId id) { return refs_[id]; }
  uint32_t slot_size() const { return slot_size_; }
  uint32_t owner_of(BufId id) const { return id / per_partition_; }
  Partition& partition(uint32_t p) { return *partitions_[p]; }
  uint32_t partitions() const { return static_cast<uint32_t>(partitions_.size()); }
  uint32_t total() const { return per_partition_ * partitions(); }
  bool valid(BufId id) const { return id < total(); }

  uint8_t* region() const { return base_; }
  size_t region_bytes() const { return bytes_; }
  bool huge_pages() const { return huge_; }

  // Puts every partition's free list back in the initial state: all buffers free. Only for
  // single-threaded use (tests, after all threads stopped).
  void reclaim_all_returns();

 private:
  uint8_t* base_ = nullptr;
  size_t bytes_ = 0;
  bool huge_ = false;
  uint32_t slot_size_;
  uint32_t per_partition_;
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::unique_ptr<uint16_t[]> refs_;
};

// Collects buffers to give back, one staging list per owner partition, and hands each list
// over with one bulk enqueue: one queue operation per batch instead of one per packet.
class ReturnBatch {
 public:
  explicit ReturnBatch(BufferPool& pool);
  void add(BufId id);
  void flush();

 private:
  BufferPool& pool_;
  std::vector<std::vector<BufId>> staged_;
};

}  // namespace tuntcp::io
