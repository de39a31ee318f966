// RACK-TLP loss detection (RFC 8985): RACK marks a segment lost once a segment sent after it
// has been delivered and a reordering window has passed; TLP (the probe timeout) sends one
// segment at the tail so that a tail loss is repaired by fast recovery instead of an RTO.
// Times are microseconds, arguments only.
#pragma once

#include <cstdint>
#include <optional>

#include "proto/tcp/sack_scoreboard.h"
#include "proto/tcp/seq.h"

namespace tuntcp::proto::tcp {

class Rack {
 public:
  static constexpr uint32_t kDupThresh = 3;          // RFC 8985 6.2 (RFC 5681 DupThresh)
  static constexpr int kReoWndPersist = 16;          // RFC 8985 6.2 step 4 (Linux)
  static constexpr uint64_t kMinRttFloorUs = 1000;    // see reo_wnd()

  // RFC 8985 6.2 steps 2-3, for one segment newly acknowledged (cumulatively or by SACK).
  // Segments of one ACK must come in ascending sequence order.
  void on_delivered(const TxSegment& seg, uint64_t now_us, uint64_t min_rtt_us);
  // RFC 8985 6.2 step 4: a D-SACK arrived. una/nxt: SND.UNA and SND.NXT now.
  void on_dsack(Seq una, Seq nxt);
  // RFC 8985 6.2 step 4: a fast or RTO recovery ended.
  void on_recovery_exit();
  // RFC 8985 6.2 step 4: the reordering window.
  uint64_t reo_wnd(bool in_recovery, uint32_t segs_sacked, uint64_t min_rtt_us, uint64_t srtt_us) const;
  // RFC 8985 6.2 step 5: marks lost every unacknowledged segment sent before the most recently
  // delivered one whose time is up. Returns the time until the next one is due (0: none).
  // *newly_lost gets the bytes newly marked.
  uint64_t detect_loss(SackScoreboard& sb, uint64_t now_us, uint64_t reo_wnd_us, uint32_t* newly_lost) const;

  // RFC 8985 6.1: t1/seq1 was sent after t2/seq2.
  static bool sent_after(uint64_t t1, Seq seq1, uint64_t t2, Seq seq2) {
    return t1 > t2 || (t1 == t2 && seq1 > seq2);
  }

  bool valid() const { return valid_; }
  uint64_t xmit_ts() const { return xmit_ts_; }
  Seq end_seq() const { return end_seq_; }
  uint64_t rtt_us() const { return rtt_; }
  bool reordering_seen() const { return reordering_seen_; }
  // Reordering shown another way (an undo proved a delayed original filled a hole).
  void note_reordering() { reordering_seen_ = true; }
  uint32_t reo_wnd_mult() const { return reo_wnd_mult_; }
  void reset();

 private:
  bool valid_ = false;   // some segment was delivered
  uint64_t xmit_ts_ = 0;  // RACK.xmit_ts
  Seq end_seq_;           // RACK.end_seq
  uint64_t rtt_ = 0;      // RACK.rtt
  Seq fack_;              // RACK.fack: highest end of a delivered segment
  bool fack_valid_ = false;
  bool reordering_seen_ = false;
  uint32_t reo_wnd_mult_ = 1;
  int reo_wnd_persist_ = 0;
  std::optional<Seq> dsack_round_;
};

// RFC 8985 7.2 / Linux tcp_schedule_loss_probe(): the probe timeout. PTO = 2 SRTT, plus the
// worst-case delayed-ACK time (WCDelAckT) when one segment is in flight, at least min_us, and
// never later than the RTO would fire (rto_left_us).
uint64_t tlp_timeout(uint64_t srtt_us, bool has_srtt, bool one_segment, uint64_t wc_delack_us,
                     uint64_t min_us, uint64_t rto_left_us);

}  // namespace tuntcp::proto::tcp
