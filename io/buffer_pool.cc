#include "io/buffer_pool.h"

#include <sys/mman.h>

#include <cerrno>

#include "io/setup_error.h"

namespace tuntcp::io {

BufId Partition::alloc() {
  if (free_.empty()) {
    BufId got[64];
    size_t n;
    while ((n = returns_.try_dequeue_bulk(got, 64)) > 0) free_.insert(free_.end(), got, got + n);
    if (free_.empty()) return kNoBuf;
  }
  BufId id = free_.back();
  free_.pop_back();
  return id;
}

BufferPool::BufferPool(uint32_t partitions, uint32_t slots_per_partition, uint32_t slot_size)
    : slot_size_(slot_size), per_partition_(slots_per_partition) {
  if (partitions == 0 || slots_per_partition == 0 || slot_size == 0)
    throw SetupError("buffer pool: partitions, buffers and slot size must all be > 0");
  const size_t want = static_cast<size_t>(partitions) * slots_per_partition * slot_size;
  constexpr size_t kHuge = 2u << 20;
  const size_t huge_bytes = (want + kHuge - 1) / kHuge * kHuge;
  // Explicit huge pages first (needs vm.nr_hugepages); then normal pages with a THP hint.
  void* p = mmap(nullptr, huge_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
  if (p != MAP_FAILED) {
    huge_ = true;
    bytes_ = huge_bytes;
  } else {
    bytes_ = huge_bytes;
    p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw SetupError(describe_errno("buffer pool: mmap", errno));
    madvise(p, bytes_, MADV_HUGEPAGE);  // best effort
    // Touch every page now so the hot path never takes a page fault.
    madvise(p, bytes_, MADV_POPULATE_WRITE);
  }
  base_ = static_cast<uint8_t*>(p);
  refs_ = std::make_unique<uint16_t[]>(static_cast<size_t>(partitions) * slots_per_partition);
  partitions_.reserve(partitions);
  for (uint32_t i = 0; i < partitions; ++i) {
    auto part = std::make_unique<Partition>();
    part->first_ = i * slots_per_partition;
    part->size_ = slots_per_partition;
    part->free_.reserve(slots_per_partition);
    // Highest id first so alloc() hands out low ids first (better locality in tests and dumps).
    for (uint32_t j = slots_per_partition; j-- > 0;) part->free_.push_back(part->first_ + j);
    partitions_.push_back(std::move(part));
  }
}

BufferPool::~BufferPool() {
  if (base_) munmap(base_, bytes_);
}

void BufferPool::reclaim_all_returns() {
  for (auto& p : partitions_) {
    BufId got[64];
    size_t n;
    while ((n = p->returns_.try_dequeue_bulk(got, 64)) > 0) p->free_.insert(p->free_.end(), got, got + n);
  }
}

ReturnBatch::ReturnBatch(BufferPool& pool) : pool_(pool), staged_(pool.partitions()) {
  for (auto& s : staged_) s.reserve(256);
}

void ReturnBatch::add(BufId id) {
  auto& s = staged_[pool_.owner_of(id)];
  s.push_back(id);
  if (s.size() == s.capacity()) {
    pool_.partition(pool_.owner_of(id)).give_back(s.data(), s.size());
    s.clear();
  }
}

void ReturnBatch::flush() {
  for (uint32_t p = 0; p < staged_.size(); ++p) {
    if (staged_[p].empty()) continue;
    pool_.partition(p).give_back(staged_[p].data(), staged_[p].size());
    staged_[p].clear();
  }
}

}  // namespace tuntcp::io
