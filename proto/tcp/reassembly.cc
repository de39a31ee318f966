#include "proto/tcp/reassembly.h"

#include <algorithm>

namespace tuntcp::proto::tcp {

Reassembly::Reassembly(size_t max_ranges) : max_(std::clamp<size_t>(max_ranges, 1, kCapacity)) {}

void Reassembly::erase(size_t i) {
  bytes_ -= ents_[i].len;
  for (size_t j = i; j + 1 < n_; ++j) ents_[j] = ents_[j + 1];
  --n_;
}

Reassembly::Insert Reassembly::insert(Seq seq, uint32_t len) {
  if (len == 0) return Insert::kDuplicate;
  Seq s = seq;
  Seq e = seq + len;
  size_t i = 0;
  while (i < n_ && ents_[i].end() < s) ++i;  // ranges entirely below, not even touching
  // ents_[i..j) touch or overlap [s, e): they merge into one range.
  size_t j = i;
  while (j < n_ && ents_[j].seq <= e) ++j;
  if (j - i == 1 && ents_[i].seq <= s && ents_[i].end() >= e) return Insert::kDuplicate;
  if (j == i) {  // a new range at position i
    if (n_ == max_) {
      if (i == n_) return Insert::kNoRoom;
      erase(n_ - 1);
    }
    for (size_t k = n_; k > i; --k) ents_[k] = ents_[k - 1];
    ents_[i] = OooRange{s, len};
    ++n_;
    bytes_ += len;
    return Insert::kStored;
  }
  Seq lo = seq_min(s, ents_[i].seq);
  Seq hi = seq_max(e, ents_[j - 1].end());
  for (size_t k = i; k < j; ++k) bytes_ -= ents_[k].len;
  size_t gone = j - i - 1;
  if (gone) {
    for (size_t k = i + 1; k + gone < n_; ++k) ents_[k] = ents_[k + gone];
    n_ -= gone;
  }
  ents_[i] = OooRange{lo, hi.since(lo)};
  bytes_ += ents_[i].len;
  return Insert::kStored;
}

void Reassembly::pop_front() {
  if (n_ != 0) erase(0);
}

void Reassembly::clear() {
  n_ = 0;
  bytes_ = 0;
  fin_.reset();
}

std::optional<SackBlock> Reassembly::block_containing(Seq x) const {
  for (size_t i = 0; i < n_; ++i)
    if (seq_in(ents_[i].seq, x, ents_[i].end())) return SackBlock{ents_[i].seq, ents_[i].end()};
  return std::nullopt;
}

std::optional<SackBlock> Reassembly::overlap(Seq s, Seq e) const {
  for (size_t i = 0; i < n_; ++i) {
    const OooRange& q = ents_[i];
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
