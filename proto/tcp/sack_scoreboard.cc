#include "proto/tcp/sack_scoreboard.h"

#include <algorithm>

namespace tuntcp::proto::tcp {

SackScoreboard::SackScoreboard(size_t capacity)
    : buf_(new TxSegment[std::max<size_t>(capacity, 4)]), cap_(std::max<size_t>(capacity, 4)) {}

void SackScoreboard::grow(size_t capacity) {
  if (capacity <= cap_) return;
  std::unique_ptr<TxSegment[]> nb(new TxSegment[capacity]);
  for (size_t i = 0; i < n_; ++i) nb[i] = at(i);
  buf_ = std::move(nb);
  cap_ = capacity;
  head_ = 0;
}

void SackScoreboard::clear() {
  head_ = n_ = 0;
  total_ = sacked_ = lost_ = retrans_ = sacked_segs_ = 0;
}

void SackScoreboard::account(const TxSegment& r, int sign) {
  uint32_t l = r.seg_len();
  auto add = [sign](uint32_t& c, uint32_t v) { c = sign > 0 ? c + v : c - v; };
  add(total_, l);
  if (r.has(TxSegment::kSacked)) {
    add(sacked_, l);
    add(sacked_segs_, 1);
    return;
  }
  if (r.has(TxSegment::kLost)) add(lost_, l);
  if (r.has(TxSegment::kRetrans)) add(retrans_, l);
}

void SackScoreboard::on_send(Seq seq, uint32_t len, bool fin, uint64_t now_us) {
  if (full()) return;  // the caller checks full() before sending new data
  TxSegment& r = buf_[(head_ + n_) % cap_];
  r = TxSegment{seq, len, fin, 0, now_us};
  ++n_;
  account(r, +1);
}

void SackScoreboard::on_retransmit(size_t i, uint64_t now_us) {
  TxSegment& r = at(i);
  account(r, -1);
  r.flags |= TxSegment::kRetrans | TxSegment::kEverRetrans;
  r.xmit_us = now_us;
  account(r, +1);
}

bool SackScoreboard::split(size_t i, uint32_t len) {
  if (full() || i >= n_ || len == 0 || len >= at(i).len) return false;
  for (size_t j = n_; j > i + 1; --j) at(j) = at(j - 1);  // slot n_ exists: not full
  ++n_;
  TxSegment& r = at(i);
  account(r, -1);
  TxSegment tail = r;
  tail.seq = r.seq + len;
  tail.len = r.len - len;
  r.len = len;
  r.fin = false;
  at(i + 1) = tail;
  account(r, +1);
  account(at(i + 1), +1);
  return true;
}

void SackScoreboard::remove(size_t i) {
  for (size_t j = i; j + 1 < n_; ++j) at(j) = at(j + 1);
  --n_;
}

size_t SackScoreboard::collapse(size_t i, uint32_t max_len) {
  size_t merged = 0;
  while (i + 1 < n_) {
    TxSegment& r = at(i);
    const TxSegment& nx = at(i + 1);
    if (r.fin || nx.has(TxSegment::kSacked) || !nx.has(TxSegment::kLost) ||
        nx.has(TxSegment::kRetrans) || r.len + nx.len > max_len)
      break;
    account(r, -1);
    account(nx, -1);
    r.len += nx.len;
    r.fin = nx.fin;
    r.flags |= nx.flags & TxSegment::kEverRetrans;
    account(r, +1);
    remove(i + 1);
    ++merged;
  }
  return merged;
}

bool SackScoreboard::mark_lost(size_t i) {
  TxSegment& r = at(i);
  if (r.has(TxSegment::kSacked)) return false;
  if (r.has(TxSegment::kLost) && !r.has(TxSegment::kRetrans)) return false;
  account(r, -1);
  r.flags = static_cast<uint8_t>((r.flags | TxSegment::kLost) & ~TxSegment::kRetrans);
  account(r, +1);
  return true;
}

uint32_t SackScoreboard::mark_lost_dupthresh(uint32_t mss, uint32_t dupthresh) {
  uint32_t segs = 0;
  uint64_t bytes = 0;
  uint32_t newly = 0;
  for (size_t k = n_; k-- > 0;) {
    TxSegment& r = at(k);
    if (r.has(TxSegment::kSacked)) {
      ++segs;
      bytes += r.seg_len();
      continue;
    }
    bool lost = segs >= dupthresh || bytes > uint64_t{dupthresh - 1} * mss;
    if (!lost) continue;
    if (r.has(TxSegment::kLost) || r.has(TxSegment::kRetrans)) continue;
    account(r, -1);
    r.flags |= TxSegment::kLost;
    account(r, +1);
    newly += r.seg_len();
  }
  return newly;
}

void SackScoreboard::mark_all_lost() {
  for (size_t i = 0; i < n_; ++i) {
    TxSegment& r = at(i);
    if (r.has(TxSegment::kSacked)) continue;
    account(r, -1);
    r.flags = static_cast<uint8_t>((r.flags | TxSegment::kLost) & ~TxSegment::kRetrans);
    account(r, +1);
  }
}

void SackScoreboard::clear_lost() {
  for (size_t i = 0; i < n_; ++i) {
    TxSegment& r = at(i);
    if (!r.has(TxSegment::kLost)) continue;
    account(r, -1);
    r.flags = static_cast<uint8_t>(r.flags & ~TxSegment::kLost);
    account(r, +1);
  }
}

uint32_t SackScoreboard::retransmitted_in(Seq left, Seq right) const {
  uint32_t n = 0;
  size_t i = find(left);
  if (i == kNone) return 0;
  for (; i < n_ && at(i).seq < right; ++i)
    if (at(i).has(TxSegment::kEverRetrans)) n += at(i).seg_len();
  return n;
}

size_t SackScoreboard::next_lost() const {
  if (lost_ == 0) return kNone;
  for (size_t i = 0; i < n_; ++i) {
    const TxSegment& r = at(i);
    if (r.has(TxSegment::kLost) && !r.has(TxSegment::kSacked) && !r.has(TxSegment::kRetrans))
      return i;
  }
  return kNone;
}

size_t SackScoreboard::find(Seq seq) const {
  size_t lo = 0, hi = n_;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (at(mid).end() <= seq) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < n_ && at(lo).seq <= seq ? lo : kNone;
}

Seq SackScoreboard::high_sacked(Seq una) const {
  if (sacked_ == 0) return una;
  for (size_t k = n_; k-- > 0;)
    if (at(k).has(TxSegment::kSacked)) return at(k).end();
  return una;
}

}  // namespace tuntcp::proto::tcp
