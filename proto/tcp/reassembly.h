// Out-of-order receive bookkeeping (RFC 9293 3.10.7.4 "seventh": segments beyond RCV.NXT are
// held for later processing). The bytes themselves are copied into the receive buffer at their
// place in sequence space (the receive window guarantees they fit); this keeps only the sorted,
// merged sequence ranges that are stored there. Its size therefore grows with the number of
// holes, not with the number of segments, and out-of-order data never pins packet buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "proto/tcp/seq.h"
#include "proto/tcp/wire.h"

namespace tuntcp::proto::tcp {

struct OooRange {
  Seq seq;
  uint32_t len = 0;
  Seq end() const { return seq + len; }
};

class Reassembly {
 public:
  static constexpr size_t kCapacity = 256;
  enum class Insert : uint8_t {
    kStored,     // some of the bytes were new; the caller stores the segment in the buffer
    kDuplicate,  // every byte was already stored
    kNoRoom,     // as many ranges as allowed and the segment is above all of them: dropped
  };

  explicit Reassembly(size_t max_ranges);

  // Records [seq, seq + len); len > 0. Ranges that touch or overlap merge. When the range limit
  // is reached, the highest range is forgotten for a lower new one (Linux tcp_prune_ofo_queue
  // drops from the top as well).
  Insert insert(Seq seq, uint32_t len);
  // A FIN seen beyond RCV.NXT.
  void note_fin(Seq fin_seq) { fin_ = fin_seq; }
  std::optional<Seq> fin() const { return fin_; }

  bool empty() const { return n_ == 0; }
  size_t size() const { return n_; }
  size_t stored_bytes() const { return bytes_; }
  const OooRange& at(size_t i) const { return ents_[i]; }
  const OooRange& front() const { return ents_[0]; }
  void pop_front();
  void clear();

  // The stored part of [s, e) that comes first, clipped to it (RFC 2883 D-SACK of queued data).
  std::optional<SackBlock> overlap(Seq s, Seq e) const;
  // The stored range that contains x, for SACK (RFC 2018 3).
  std::optional<SackBlock> block_containing(Seq x) const;

 private:
  void erase(size_t i);

  std::array<OooRange, kCapacity> ents_{};
  size_t max_;
  size_t n_ = 0;
  size_t bytes_ = 0;
  std::optional<Seq> fin_;
};

// RFC 2018 4: which SACK blocks to report. The first block holds the most recently received
// segment; the others repeat the most recently reported blocks that are still queued.
class SackTracker {
 public:
  void on_segment(Seq seq);
  size_t build(const Reassembly& q, Seq rcv_nxt, size_t max_blocks, SackBlock* out);
  void clear() { n_ = 0; }

 private:
  std::array<Seq, kMaxSackBlocks> recent_{};
  size_t n_ = 0;
};

}  // namespace tuntcp::proto::tcp
