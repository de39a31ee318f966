#include "proto/tcp/reassembly.h"

#include <algorithm>

namespace tuntcp::proto::tcp {

Reassembly::Reassembly(size_t max_segments)
    : max_(std::clamp<size_t>(max_segments, 1, kCapacity)) {}

void Reassembly::erase(size_t i) {
  held_ -= ents_[i].len;
  for (size_t j = i; j + 1 < n_; ++j) ents_[j] = ents_[j + 1];
  --n_;
}

Reassembly::Insert Reassembly::insert(Seq seq, std::span<const uint8_t> data, uint32_t buffer,
                                      BufferOwner& owner) {
  if (data.empty()) return Insert::kDuplicate;
  Seq s = seq;
  Seq e = seq + static_cast<uint32_t>(data.size());
  const uint8_t* d = data.data();
  size_t i = 0;
  while (i < n_ && ents_[i].end() <= s) ++i;
  while (i < n_ && ents_[i].seq < e) {
    const OooSegment& q = ents_[i];
    if (q.seq <= s) {
      if (q.end() >= e) return Insert::kDuplicate;
      d += q.end().since(s);  // the head is already queued
      s = q.end();
      ++i;
      continue;
    }
    if (q.end() <= e) {  // the new segment covers this entry: replace it
      owner.release(q.buffer);
      erase(i);
      continue;
    }
    e = q.seq;  // the tail is already queued
    break;
  }
  if (n_ == max_) {
    if (i == n_) return Insert::kNoRoom;
    owner.release(ents_[n_ - 1].buffer);
    erase(n_ - 1);
  }
  for (size_t j = n_; j > i; --j) ents_[j] = ents_[j - 1];
  ents_[i] = OooSegment{s, e.since(s), d, buffer};
  ++n_;
  held_ += e.since(s);
  owner.hold(buffer);
  return Insert::kHeld;
}

void Reassembly::pop_front(BufferOwner& owner) {
  if (n_ == 0) return;
  owner.release(ents_[0].buffer);
  erase(0);
}

void Reassembly::clear(BufferOwner& owner) {
  for (size_t i = 0; i < n_; ++i) owner.release(ents_[i].buffer);
  n_ = 0;
  held_ = 0;
  fin_.reset();
}

std::optional<SackBlock> Reassembly::block_containing(Seq x) const {
  for (size_t i = 0; i < n_; ++i) {
    if (!seq_in(ents_[i].seq, x, ents_[i].end())) continue;
    size_t lo = i, hi = i;
    while (lo > 0 && ents_[lo - 1].end() == ents_[lo].seq) --lo;
    while (hi + 1 < n_ && ents_[hi].end() == ents_[hi + 1].seq) ++hi;
    return SackBlock{ents_[lo].seq, ents_[hi].end()};
  }
  return std::nullopt;
}

std::optional<SackBlock> Reassembly::overlap(Seq s, Seq e) const {
  for (size_t i = 0; i < n_; ++i) {
    const OooSegment& q = ents_[i];
    if (q.end() <= s) continue;
    if (q.seq >= e) break;
    return SackBlock{seq_max(s, q.seq), seq_min(e, q.end())};
  }
  return std::nullopt;
}

void SackTracker::on_segment(Seq seq) {
  size_t pos = n_;
  for (size_t i = 0; i < n_; ++i)
    if (recent_[i] == seq) pos = i;
  if (pos == n_) pos = n_ < recent_.size() ? n_++ : recent_.size() - 1;
  for (size_t j = pos; j > 0; --j) recent_[j] = recent_[j - 1];
  recent_[0] = seq;
}

size_t SackTracker::build(const Reassembly& q, Seq rcv_nxt, size_t max_blocks, SackBlock* out) {
  size_t count = 0;
  size_t kept = 0;
  for (size_t i = 0; i < n_; ++i) {
    Seq anchor = recent_[i];
    if (anchor < rcv_nxt) continue;  // delivered: forget it
    auto b = q.block_containing(anchor);
    if (!b) continue;
    recent_[kept++] = anchor;
    bool dup = false;
    for (size_t j = 0; j < count; ++j) dup = dup || out[j] == *b;
    if (!dup && count < max_blocks) out[count++] = *b;
  }
  n_ = kept;
  return count;
}

}  // namespace tuntcp::proto::tcp
