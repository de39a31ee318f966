// Out-of-order receive bookkeeping (RFC 9293 3.10.7.4 "seventh": segments beyond RCV.NXT are
// held for later processing). A small fixed-capacity sorted array of non-overlapping ranges;
// each range points into a packet buffer that is held (not copied) until delivered.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "proto/tcp/buffers.h"
#include "proto/tcp/seq.h"
#include "proto/tcp/wire.h"

namespace tuntcp::proto::tcp {

struct OooSegment {
  Seq seq;
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  uint32_t buffer = kNoBuffer;
  Seq end() const { return seq + len; }
};

class Reassembly {
 public:
  static constexpr size_t kCapacity = 64;
  enum class Insert : uint8_t {
    kHeld,       // stored (possibly trimmed), its buffer held
    kDuplicate,  // every byte was already queued
    kNoRoom,     // queue full and the segment is above everything queued: dropped
  };

  explicit Reassembly(size_t max_segments);

  // Stores [seq, seq + data.size()) minus the parts already queued; data must be non-empty.
  // Entries fully covered by the new segment are released and replaced. When full, the
  // highest entry is evicted for a lower new one (Linux tcp_prune_ofo_queue drops from the top).
  Insert insert(Seq seq, std::span<const uint8_t> data, uint32_t buffer, BufferOwner& owner);
  // A FIN seen beyond RCV.NXT.
  void note_fin(Seq fin_seq) { fin_ = fin_seq; }
  std::optional<Seq> fin() const { return fin_; }

  bool empty() const { return n_ == 0; }
  size_t size() const { return n_; }
  size_t held_bytes() const { return held_; }
  const OooSegment& at(size_t i) const { return ents_[i]; }
  const OooSegment& front() const { return ents_[0]; }
  void pop_front(BufferOwner& owner);
  void clear(BufferOwner& owner);

  // The first queued range overlapping [s, e), clipped to it (RFC 2883 D-SACK of queued data).
  std::optional<SackBlock> overlap(Seq s, Seq e) const;
  // The maximal contiguous run of queued data that contains x, for SACK (RFC 2018 3).
  std::optional<SackBlock> block_containing(Seq x) const;

 private:
  void erase(size_t i);

  std::array<OooSegment, kCapacity> ents_{};
  size_t max_;
  size_t n_ = 0;
  size_t held_ = 0;
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
