// The sender's scoreboard (RFC 6675 2, RFC 2018 5): one record per transmitted segment from
// SND.UNA to SND.MAX, in sequence order, with what the SACK blocks said about it (SACKed), what
// loss detection concluded (lost) and whether it was retransmitted. RACK-TLP (RFC 8985) keeps
// the transmit time of each segment here too.
//
// Fixed capacity, allocated once: no allocation per segment. Records tile the sequence space
// without gaps; a retransmission keeps the record's boundaries (small lost records may be
// merged first, as Linux tcp_retrans_try_collapse() does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "proto/tcp/seq.h"
#include "proto/tcp/wire.h"

namespace tuntcp::proto::tcp {

struct TxSegment {
  static constexpr uint8_t kSacked = 1;       // covered by a SACK block (RFC 2018)
  static constexpr uint8_t kLost = 2;         // deemed lost (RFC 6675 IsLost, RACK, RTO)
  static constexpr uint8_t kRetrans = 4;      // retransmitted and that copy still in flight
  static constexpr uint8_t kEverRetrans = 8;  // retransmitted at least once (Karn, D-SACK)

  Seq seq;
  uint32_t len = 0;      // payload bytes
  bool fin = false;      // the FIN follows the payload
  uint8_t flags = 0;
  uint64_t xmit_us = 0;  // time of the latest transmission (RACK: Segment.xmit_ts)

  Seq end() const { return seq + len + (fin ? 1 : 0); }
  uint32_t seg_len() const { return len + (fin ? 1 : 0); }
  bool has(uint8_t f) const { return (flags & f) != 0; }
};

class SackScoreboard {
 public:
  static constexpr size_t kNone = SIZE_MAX;

  explicit SackScoreboard(size_t capacity);

  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  bool full() const { return n_ == cap_; }
  size_t capacity() const { return cap_; }
  // Reallocates to a larger capacity, keeping the records (send-buffer auto-tuning).
  void grow(size_t capacity);
  TxSegment& at(size_t i) { return buf_[(head_ + i) % cap_]; }
  const TxSegment& at(size_t i) const { return buf_[(head_ + i) % cap_]; }
  const TxSegment& back() const { return at(n_ - 1); }
  void clear();

  // A first transmission at the top (seq must be the end of the last record).
  void on_send(Seq seq, uint32_t len, bool fin, uint64_t now_us);
  // Record i was sent again.
  void on_retransmit(size_t i, uint64_t now_us);
  // Merges the lost, unSACKed records after i into i while the payload stays within max_len
  // (Linux tcp_retrans_try_collapse()). Returns the records merged.
  size_t collapse(size_t i, uint32_t max_len);

  // Splits record i after `len` payload bytes into two records with the same marks (Linux
  // tcp_fragment()): a SACK block or a retransmission may cover part of a TSO super-segment.
  // Returns false (nothing changes) if the board is full or `len` is not inside the record.
  bool split(size_t i, uint32_t len);
  // With TSO records span several MSS: a SACK block that covers part of one splits it at an
  // MSS multiple (Linux tcp_match_skb_to_sack()). 0 (the default): records are never split.
  void set_split_unit(uint32_t mss) { split_unit_ = mss; }

  // Cumulative ACK up to `una`: calls f(record) for each record it fully acknowledges, then
  // removes it; a partly acknowledged record is trimmed.
  template <class F>
  void ack(Seq una, F&& f);

  // One SACK block [left, right) (RFC 2018 3): marks the records it covers fully. Calls
  // f(record) for each newly SACKed one. Returns the bytes newly SACKed.
  template <class F>
  uint32_t sack(Seq left, Seq right, F&& f);

  // Marks record i lost (a retransmitted copy in flight is then lost too: RFC 8985 6.2 step 5,
  // Linux tcp_mark_skb_lost()). Returns false if it already was, or is SACKed.
  bool mark_lost(size_t i);
  // RFC 6675 4 IsLost(): an unSACKed record is lost when at least DupThresh SACKed records, or
  // more than (DupThresh - 1) * SMSS SACKed bytes, lie above it. Marks those not yet marked
  // and not retransmitted; returns the bytes newly marked.
  uint32_t mark_lost_dupthresh(uint32_t mss, uint32_t dupthresh);
  // RFC 5681 3.1 / Linux tcp_timeout_mark_lost(): after an RTO every unSACKed record is lost.
  void mark_all_lost();
  // Linux tcp_undo_cwnd_reduction(unmark_loss): the loss was spurious, forget the marks.
  void clear_lost();
  // Sequence space of the retransmitted records in [left, right) (D-SACK, RFC 2883 4).
  uint32_t retransmitted_in(Seq left, Seq right) const;

  // RFC 6675 4 NextSeg() rule (1): the first lost, unSACKed record not yet retransmitted
  // (Linux retransmits lost segments only, so rules (3) and (4) are left to TLP).
  size_t next_lost() const;
  // Index of the record containing seq, or kNone.
  size_t find(Seq seq) const;

  // RFC 6675 4 SetPipe(): bytes in flight. Each unSACKed byte counts once unless it is lost,
  // and once more if it was retransmitted.
  uint32_t pipe() const { return total_ - sacked_ - lost_ + retrans_; }
  uint32_t sacked_bytes() const { return sacked_; }
  uint32_t sacked_segments() const { return sacked_segs_; }
  uint32_t lost_bytes() const { return lost_; }
  uint32_t retrans_bytes() const { return retrans_; }
  uint32_t total_bytes() const { return total_; }
  // Sequence just above the highest SACKed byte (RFC 6675 HighSACK + 1), or `una` if none.
  Seq high_sacked(Seq una) const;

 private:
  // Adds (sign +1) or removes (-1) what record r contributes to the counters.
  void account(const TxSegment& r, int sign);
  void remove(size_t i);

  std::unique_ptr<TxSegment[]> buf_;
  size_t cap_;
  size_t head_ = 0;
  size_t n_ = 0;
  uint32_t total_ = 0;    // sequence space of all records
  uint32_t sacked_ = 0;   // SACKed
  uint32_t lost_ = 0;     // lost and not SACKed
  uint32_t retrans_ = 0;  // retransmitted copy in flight, not SACKed
  uint32_t sacked_segs_ = 0;
  uint32_t split_unit_ = 0;
};

template <class F>
void SackScoreboard::ack(Seq una, F&& f) {
  while (n_ > 0) {
    TxSegment& r = at(0);
    if (r.end() <= una) {
      f(static_cast<const TxSegment&>(r));
      account(r, -1);
      head_ = (head_ + 1) % cap_;
      --n_;
      continue;
    }
    if (r.seq < una) {  // partly acknowledged: keep the rest
      account(r, -1);
      uint32_t cut = una.since(r.seq);
      r.len -= cut;
      r.seq = una;
      account(r, +1);
    }
    break;
  }
}

template <class F>
uint32_t SackScoreboard::sack(Seq left, Seq right, F&& f) {
  uint32_t newly = 0;
  if (n_ == 0 || !(left < right)) return 0;
  // Binary search: the first record that ends after `left`.
  size_t lo = 0, hi = n_;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (at(mid).end() <= left) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (size_t i = lo; i < n_; ++i) {
    TxSegment& r = at(i);
    if (r.seq >= right) break;
    if (r.has(TxSegment::kSacked)) continue;
    // A block that starts or ends inside a record (a TSO super-segment the receiver got in
    // MSS-sized pieces) splits it at the edge, so exactly the SACKed part is marked.
    if (r.seq < left) {
      if (split_unit_ && r.len > split_unit_) {
        const uint32_t u = split_unit_;
        split(i, (left.since(r.seq) + u - 1) / u * u);
      }
      continue;  // the part inside the block, if split off, is record i + 1
    }
    if (r.end() > right) {
      const uint32_t inside = right.since(r.seq) / (split_unit_ ? split_unit_ : 1) * split_unit_;
      if (!split_unit_ || r.len <= split_unit_ || inside == 0 || !split(i, inside)) continue;
    }
    account(r, -1);
    r.flags = static_cast<uint8_t>((r.flags | TxSegment::kSacked) & ~TxSegment::kRetrans);
    account(r, +1);
    newly += r.seg_len();
    f(static_cast<const TxSegment&>(r));
  }
  return newly;
}

}  // namespace tuntcp::proto::tcp
