#include "proto/tcp/rack.h"

#include <algorithm>

namespace tuntcp::proto::tcp {

void Rack::reset() { *this = Rack(); }

void Rack::on_delivered(const TxSegment& seg, uint64_t now_us, uint64_t min_rtt_us) {
  Seq end = seg.end();
  // Step 3, RACK_detect_reordering(): a never-retransmitted segment delivered below the
  // highest delivered one arrived out of order.
  if (!fack_valid_ || end > fack_) {
    fack_ = end;
    fack_valid_ = true;
  } else if (end < fack_ && !seg.has(TxSegment::kEverRetrans)) {
    reordering_seen_ = true;
  }
  // Step 2, RACK_update(). A retransmitted segment acked sooner than the minimum RTT was
  // delivered by its original copy: ambiguous, not used (Linux tcp_rack_advance()).
  uint64_t rtt = now_us >= seg.xmit_us ? now_us - seg.xmit_us : 0;
  if (seg.has(TxSegment::kEverRetrans) && rtt < min_rtt_us) return;
  if (!valid_ || sent_after(seg.xmit_us, end, xmit_ts_, end_seq_)) {
    valid_ = true;
    rtt_ = rtt;
    xmit_ts_ = seg.xmit_us;
    end_seq_ = end;
  }
}

void Rack::on_dsack(Seq una, Seq nxt) {
  if (dsack_round_ && una >= *dsack_round_) dsack_round_.reset();
  // Grow the window once per round trip that sees a D-SACK.
  if (!dsack_round_) {
    dsack_round_ = nxt;
    reo_wnd_mult_ = std::min<uint32_t>(reo_wnd_mult_ + 1, 255);
    reo_wnd_persist_ = kReoWndPersist;
  }
}

void Rack::on_recovery_exit() {
  if (reo_wnd_persist_ > 0 && --reo_wnd_persist_ == 0) reo_wnd_mult_ = 1;
}

uint64_t Rack::reo_wnd(bool in_recovery, uint32_t segs_sacked, uint64_t min_rtt_us,
                       uint64_t srtt_us) const {
  // Without reordering seen, behave like DupThresh: no window once in recovery or once
  // DupThresh segments are SACKed.
  if (!reordering_seen_ && (in_recovery || segs_sacked >= kDupThresh)) return 0;
  // The engine's clock advances once per batch, so a fast path measures RTTs of 0: the base
  // is at least kMinRttFloorUs (Linux's minmax filter likewise takes a 0 sample as one jiffy),
  // or no number of D-SACK rounds could ever open the window.
  uint64_t base = std::max<uint64_t>(min_rtt_us, kMinRttFloorUs);
  return std::min<uint64_t>(reo_wnd_mult_ * base / 4, srtt_us);
}

uint64_t Rack::detect_loss(SackScoreboard& sb, uint64_t now_us, uint64_t reo_wnd_us,
                           uint32_t* newly_lost) const {
  *newly_lost = 0;
  if (!valid_) return 0;
  uint64_t timeout = 0;
  for (size_t i = 0; i < sb.size(); ++i) {
    const TxSegment& s = sb.at(i);
    if (s.has(TxSegment::kSacked)) continue;
    // Already lost and waiting for its retransmission (Linux tcp_rack_detect_loss()).
    if (s.has(TxSegment::kLost) && !s.has(TxSegment::kRetrans)) continue;
    if (!sent_after(xmit_ts_, end_seq_, s.xmit_us, s.end())) continue;
    uint64_t due = s.xmit_us + rtt_ + reo_wnd_us;
    if (due <= now_us) {
      uint32_t l = s.seg_len();
      if (sb.mark_lost(i)) *newly_lost += l;
    } else {
      timeout = std::max(timeout, due - now_us);
    }
  }
  return timeout;
}

uint64_t tlp_timeout(uint64_t srtt_us, bool has_srtt, bool one_segment, uint64_t wc_delack_us,
                     uint64_t min_us, uint64_t rto_left_us) {
  uint64_t pto = 1'000'000;  // RFC 8985 7.2: 1 s without an RTT sample
  if (has_srtt) {
    pto = 2 * srtt_us;
    if (one_segment) pto += wc_delack_us;
  }
  pto = std::max(pto, min_us);
  return std::min(pto, rto_left_us);
}

}  // namespace tuntcp::proto::tcp
