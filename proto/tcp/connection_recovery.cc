// Sender side of an ACK and loss recovery: the SACK scoreboard (RFC 2018, RFC 6675), D-SACK
// (RFC 2883) with undo of spurious reductions (Linux), RACK-TLP (RFC 8985), proportional rate
// reduction (RFC 6937, as Linux), NewReno without SACK (RFC 5681 3.2, RFC 6582), limited
// transmit (RFC 3042, in output()) and retransmission timeouts (RFC 6298, RFC 5681 3.1).
// The order of the steps follows Linux tcp_ack() / tcp_fastretrans_alert().
#include <algorithm>

#include "proto/tcp/connection.h"

namespace tuntcp::proto::tcp {

namespace {
constexpr uint32_t kDupThresh = 3;          // RFC 5681 3.2, RFC 6675 2
constexpr uint64_t kWcDelAckUs = 200'000;   // RFC 8985 7.2 WCDelAckT (Linux TCP_RTO_MIN)

uint32_t div_up(uint32_t a, uint32_t b) { return (a + b - 1) / b; }
}  // namespace

void Connection::sender_ack(const TcpRepr& h, Seq ack, bool dup) {
  AckInfo ai;
  ai.prior_una = snd_una_;
  ai.dup = dup;
  CaState prior_state = ca_state_;
  bool has_sack = sack_ok_ && h.opt.sack_count > 0;
  // RFC 2883 4 / Linux tcp_check_dsack(): the first block reports a duplicate if it lies
  // below the cumulative ACK or inside the second block. Handled before the records go.
  bool dsack = false;
  if (has_sack) {
    const SackBlock& b0 = h.opt.sack[0];
    dsack = b0.left < ack || (h.opt.sack_count > 1 && h.opt.sack[1].left <= b0.left &&
                              b0.right <= h.opt.sack[1].right);
    if (dsack && b0.left < b0.right) process_dsack(b0, ai);
  }
  ai.dup = dup && !dsack;  // Linux: a D-SACK is not a duplicate ACK (FLAG_DSACKING_ACK)
  uint32_t sacked_before = sb_.sacked_bytes();
  if (ack > snd_una_) cumulative_ack(ack, ai);
  uint32_t sacked_removed = sacked_before - sb_.sacked_bytes();
  if (has_sack) process_sack_blocks(h, ack, ai);
  ai.delivered = ai.acked - std::min(ai.acked, sacked_removed) + ai.newly_sacked;

  // RTT (RFC 6298 2, RFC 7323 4): the scoreboard's time first, as Linux tcp_ack_update_rtt().
  int64_t sample = -1;
  if (ai.seq_rtt >= 0 || ai.acked > 0) sample = take_rtt_sample(h, ack, ai.seq_rtt);
  int64_t ca_rtt = ai.ca_rtt >= 0 ? ai.ca_rtt : sample;
  if (ca_rtt >= 0) min_rtt_ = std::min(min_rtt_, static_cast<uint64_t>(ca_rtt));

  if (tlp_out_) process_tlp_ack(ack, ai);
  loss_state_machine(h, ai);

  // RFC 6298 5.2-5.3 / RFC 8985 7.2: new data acknowledged: stop the timer when all is acked,
  // else the probe timer or the RTO again (unless RACK just armed its reordering timer).
  if (ai.acked > 0) {
    if (snd_una_ == snd_max_) {
      rtx_deadline_ = kNever;
    } else if (!ai.reo_timer_set) {
      set_xmit_timer();
    }
  }

  // The window: PRR during SACK recovery, growth outside any reduction.
  if (ca_state_ == CaState::kRecovery && sack_ok_) prr_update(ai);
  if (ai.delivered > 0 || ca_rtt >= 0) {
    AckSample s;
    s.acked = ai.delivered;
    s.now_us = now_;
    s.ack = snd_una_;
    s.snd_nxt = snd_max_;
    s.rtt_us = ca_rtt;
    // Linux tcp_may_raise_cwnd(): grow on in-order delivery only (RFC 5681), never while a
    // reduction is under way.
    s.may_grow = ai.acked > 0 && ca_state_ != CaState::kRecovery && prior_state != CaState::kRecovery;
    cc_->on_ack(s);
  }
}

// SND.UNA advances: the records it covers leave the scoreboard and the send ring.
void Connection::cumulative_ack(Seq ack, AckInfo& ai) {
  ai.acked = ack.since(snd_una_);
  uint64_t first = UINT64_MAX, last = 0;
  bool retrans_acked = false;
  uint64_t min_rtt = min_rtt_ == UINT64_MAX ? 0 : min_rtt_;
  bool rack = sack_ok_ && cfg_.rack;
  sb_.ack(ack, [&](const TxSegment& r) {
    if (r.has(TxSegment::kSacked)) return;  // delivered earlier
    if (r.has(TxSegment::kEverRetrans)) {
      retrans_acked = true;
    } else {
      first = std::min(first, r.xmit_us);
      last = std::max(last, r.xmit_us);
    }
    if (rack) rack_.on_delivered(r, now_, min_rtt);
  });
  // RFC 6298 3 (Karn), Linux FLAG_RETRANS_DATA_ACKED: no sample when a retransmission is acked.
  if (first != UINT64_MAX && !retrans_acked) {
    ai.seq_rtt = static_cast<int64_t>(now_ - first);
    ai.ca_rtt = static_cast<int64_t>(now_ - last);
  }
  Seq acked_to = seq_min(ack, data_end());
  if (acked_to > ring_seq_) {
    uint32_t n = acked_to.since(ring_seq_);
    send_ring_.consume(n);
    ring_seq_ += n;
  }
  snd_una_ = ack;
  if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
  retries_ = 0;
  snd_buf_expand();
  if (send_blocked_ && send_ring_.free() > 0) {
    send_blocked_ = false;
    writable_pending_ = true;
  }
}

// RFC 2018 3 / RFC 6675 5 (Update()): mark what the blocks cover. Blocks are checked (Linux
// tcp_is_sackblock_valid(): inside SND.UNA..SND.MAX) and taken in ascending order so that
// RACK sees deliveries in sequence order (RFC 8985 6.2 step 3).
void Connection::process_sack_blocks(const TcpRepr& h, Seq ack, AckInfo& ai) {
  (void)ack;
  SackBlock blocks[kMaxSackBlocks];
  size_t n = 0;
  for (size_t k = 0; k < h.opt.sack_count && k < kMaxSackBlocks; ++k) {
    SackBlock b = h.opt.sack[k];
    if (!(b.left < b.right) || b.right > snd_max_ || b.right.since(b.left) > 0x40000000) continue;
    if (b.right <= snd_una_) continue;
    b.left = seq_max(b.left, snd_una_);
    size_t j = n++;
    while (j > 0 && b.left < blocks[j - 1].left) {
      blocks[j] = blocks[j - 1];
      --j;
    }
    blocks[j] = b;
  }
  uint64_t first = UINT64_MAX, last = 0;
  uint64_t min_rtt = min_rtt_ == UINT64_MAX ? 0 : min_rtt_;
  bool rack = cfg_.rack;
  for (size_t k = 0; k < n; ++k) {
    ai.newly_sacked += sb_.sack(blocks[k].left, blocks[k].right, [&](const TxSegment& r) {
      if (!r.has(TxSegment::kEverRetrans)) {
        first = std::min(first, r.xmit_us);
        last = std::max(last, r.xmit_us);
      }
      if (rack) rack_.on_delivered(r, now_, min_rtt);
    });
  }
  // Linux tcp_sacktag_write_queue(): SACKed segments time the path too.
  if (first != UINT64_MAX) {
    if (ai.seq_rtt < 0) ai.seq_rtt = static_cast<int64_t>(now_ - first);
    ai.ca_rtt = static_cast<int64_t>(now_ - last);
  }
}

// RFC 2883 4 / RFC 3708: a D-SACK for data we retransmitted means the retransmission was not
// needed. Linux counts such retransmissions down from undo_retrans; when every retransmission
// of an episode proved spurious, the reduction is undone (try_undo()).
void Connection::process_dsack(const SackBlock& b, AckInfo& ai) {
  ai.dsack = true;
  ++stats_.dsacks_received;
  uint32_t spurious = 0;
  if (b.right <= snd_una_) {
    // The records are gone: Linux "dumb counting" of segments above the undo marker.
    if (undo_armed_ && undo_retrans_ > 0 && b.right > undo_marker_)
      spurious = std::min<uint32_t>(div_up(b.right.since(b.left), snd_mss_),
                                    static_cast<uint32_t>(undo_retrans_));
  } else {
    uint32_t bytes = sb_.retransmitted_in(seq_max(b.left, snd_una_), b.right);
    spurious = bytes ? div_up(bytes, snd_mss_) : 0;
  }
  if (spurious) {
    stats_.spurious_retransmits += spurious;
    if (undo_armed_ && undo_retrans_ > 0)
      undo_retrans_ -= static_cast<int32_t>(std::min<uint32_t>(spurious, static_cast<uint32_t>(undo_retrans_)));
  }
  // Linux FLAG_DSACK_TLP: the probe's retransmission arrived twice: nothing was lost.
  if (tlp_out_ && tlp_retrans_ && b.right == tlp_high_seq_) ai.dsack_tlp = true;
  // RFC 8985 6.2 step 4: D-SACKs widen the reordering window.
  if (cfg_.rack) rack_.on_dsack(snd_una_, snd_max_);
}

// RFC 8985 6.2 step 5 (RACK) or RFC 6675 4 IsLost() (DupThresh) when RACK is off.
void Connection::detect_loss(AckInfo& ai, bool arm_reo_timer) {
  if (sb_.empty()) return;
  if (!cfg_.rack) {
    ai.newly_lost += sb_.mark_lost_dupthresh(snd_mss_, kDupThresh);
    return;
  }
  uint64_t min_rtt = min_rtt_ == UINT64_MAX ? rtt_.srtt_us() : min_rtt_;
  uint64_t reo = rack_.reo_wnd(ca_state_ != CaState::kOpen, sb_.sacked_segments(), min_rtt,
                               rtt_.srtt_us());
  uint32_t lost = 0;
  uint64_t timeout = rack_.detect_loss(sb_, now_, reo, &lost);
  if (lost) {
    ai.newly_lost += lost;
    stats_.rack_lost += div_up(lost, snd_mss_);
  }
  // RFC 8985 6.2 step 6: a segment will be due later: the reordering timer.
  if (timeout > 0 && arm_reo_timer) {
    rtx_deadline_ = now_ + timeout;
    rtx_timer_ = RtxTimer::kReo;
    ai.reo_timer_set = true;
  }
}

// Linux tcp_fastretrans_alert(): exits first, then undo, loss detection and recovery entry.
void Connection::loss_state_machine(const TcpRepr& h, AckInfo& ai) {
  if (ai.acked > 0) {
    dupacks_ = 0;
  } else if (ai.dup) {
    ++dupacks_;
  }
  // Exits: the ACK covers the recovery point (RFC 6582 3.2 step 3, RFC 6675 5, RFC 5681 3.1).
  // Linux tcp_try_undo_recovery() / tcp_try_undo_loss(): first, was it all spurious?
  bool may_undo = undo_armed_ && (undo_retrans_ == 0 || packet_delayed(h));
  if (ca_state_ == CaState::kRecovery && snd_una_ >= recover_) {
    if (!(may_undo && undo_reduction())) exit_recovery();
  } else if (ca_state_ == CaState::kLoss && ai.acked > 0 && may_undo) {
    undo_reduction(true);
  } else if (ca_state_ == CaState::kLoss && snd_una_ >= recover_) {
    ca_state_ = CaState::kOpen;
    if (cfg_.rack) rack_.on_recovery_exit();
  }
  if (ai.dsack) try_undo();
  // Linux tcp_try_undo_partial(): a partial ACK whose echo predates the first retransmission
  // was filled by a delayed original: reordering, not loss. With retransmissions still out,
  // mark nothing more lost on this ACK; with none, undo the reduction.
  bool hold_marking = false;
  if (ca_state_ == CaState::kRecovery && ai.acked > 0 && undo_armed_ && packet_delayed(h)) {
    // Linux tcp_check_sack_reordering(): the path reorders, so RACK keeps its window open.
    if (cfg_.rack) rack_.note_reordering();
    if (sb_.retrans_bytes() > 0) {
      hold_marking = true;
    } else {
      undo_reduction(true);  // Linux tcp_undo_cwnd_reduction(sk, true): the marks were wrong
    }
  }

  if (sack_ok_ && !hold_marking && (ai.acked > 0 || ai.newly_sacked > 0 || ai.dsack))
    detect_loss(ai, true);

  switch (ca_state_) {
    case CaState::kOpen:
      if (sack_ok_) {
        // RFC 6675 5: with RACK, recovery starts once a segment is deemed lost (Linux
        // tcp_time_to_recover()); without it, DupThresh duplicate ACKs also start it.
        if (!cfg_.rack && dupacks_ >= kDupThresh && sb_.lost_bytes() == 0 && !sb_.empty()) {
          if (sb_.mark_lost(0)) ai.newly_lost += sb_.at(0).seg_len();
        }
        if (sb_.lost_bytes() > 0) enter_sack_recovery();
      } else if (dupacks_ == kDupThresh && snd_una_ > recover_) {
        // RFC 6582 3.2 step 2 / 4.1: only when the ACK covers more than recover.
        enter_newreno_recovery();
      }
      break;
    case CaState::kRecovery:
      if (!sack_ok_) {
        if (ai.acked > 0) {
          // RFC 6582 3.2 step 5: partial acknowledgment: retransmit the next hole at once.
          cc_->on_partial_ack(ai.acked);
          retransmit_head();
        } else if (ai.dup) {
          cc_->on_dupack_in_recovery();
        }
      }
      break;
    case CaState::kLoss:
      break;  // output() retransmits the lost segments as cwnd opens (RFC 5681 3.1)
  }
}

// RFC 6675 5 steps (4.1)-(4.2) with RFC 6937 PRR (Linux tcp_enter_recovery()).
void Connection::enter_sack_recovery() {
  ca_state_ = CaState::kRecovery;
  recover_ = snd_max_;  // RecoveryPoint = HighData
  init_undo();
  cc_->on_enter_reduction(flight_size());
  prr_delivered_ = 0;
  prr_out_ = 0;
  tlp_out_ = false;
  ++stats_.fast_retransmits;
  ++stats_.sack_recoveries;
}

// RFC 5681 3.2 steps 2-3, RFC 6582 3.2 step 2.
void Connection::enter_newreno_recovery() {
  ca_state_ = CaState::kRecovery;
  init_undo();  // timestamps can still show it spurious (Linux tcp_enter_recovery())
  cc_->on_enter_recovery(snd_max_.since(snd_una_));
  recover_ = snd_max_;
  ++stats_.fast_retransmits;
  retransmit_head();
}

void Connection::exit_recovery() {
  if (sack_ok_) {
    cc_->on_end_reduction();  // Linux tcp_end_cwnd_reduction(): cwnd = ssthresh
  } else {
    cc_->on_exit_recovery(flight_size());  // RFC 6582 3.2 step 3
  }
  ca_state_ = CaState::kOpen;
  dupacks_ = 0;
  if (cfg_.rack) rack_.on_recovery_exit();
}

// RFC 6937 3 (PRR-SSRB as Linux tcp_cwnd_reduction(), in bytes): while pipe is above
// ssthresh, send in proportion to what is delivered; below it, slow start back up to it.
void Connection::prr_update(const AckInfo& ai) {
  if (ai.delivered == 0) return;
  prr_delivered_ += ai.delivered;
  uint32_t pipe = sb_.pipe();
  uint32_t ssthresh = cc_->ssthresh();
  int64_t delta = int64_t{ssthresh} - pipe;
  int64_t sndcnt;
  if (delta < 0) {
    uint64_t prior = std::max(cc_->prior_cwnd(), 1u);
    uint64_t due = (uint64_t{ssthresh} * prr_delivered_ + prior - 1) / prior;
    sndcnt = static_cast<int64_t>(due) - prr_out_;
  } else {
    sndcnt = std::max<int64_t>(int64_t{prr_delivered_} - prr_out_, ai.delivered);
    if (ai.acked > 0 && ai.newly_lost == 0) sndcnt += snd_mss_;
    sndcnt = std::min(delta, sndcnt);
  }
  // The fast retransmit goes whatever the arithmetic says.
  sndcnt = std::max<int64_t>(sndcnt, prr_out_ ? 0 : snd_mss_);
  cc_->set_cwnd(static_cast<uint32_t>(std::min<int64_t>(pipe + sndcnt, CongestionControl::kInfiniteSsthresh)));
}

// RFC 8985 7.4 / Linux tcp_process_tlp_ack(): did the probe repair a loss?
void Connection::process_tlp_ack(Seq ack, const AckInfo& ai) {
  if (ack < tlp_high_seq_) return;
  if (!tlp_retrans_ || ai.dsack_tlp) {
    tlp_out_ = false;  // new data was probed, or both copies arrived: no loss
  } else if (ack > tlp_high_seq_) {
    // RFC 8985 7.4.2: the probe repaired a loss: reduce the window once (Linux CWR).
    tlp_out_ = false;
    cc_->on_enter_reduction(flight_size());
    cc_->on_end_reduction();
    ++stats_.tlp_recoveries;
  } else if (ai.acked == 0 && ai.newly_sacked == 0 && ai.dup) {
    tlp_out_ = false;  // a pure duplicate ACK: original and probe both arrived
  }
}

// Linux tcp_init_undo(): remember where the reduction began; retransmissions from here on
// are counted so that D-SACKs can prove all of them spurious.
void Connection::init_undo() {
  undo_armed_ = true;
  undo_marker_ = snd_una_;
  uint32_t r = sb_.retrans_bytes();
  undo_retrans_ = r ? static_cast<int32_t>(div_up(r, snd_mss_)) : -1;
  if (r == 0) retrans_ts_set_ = false;  // Linux: retrans_stamp only while retransmits are out
}

// Linux tcp_packet_delayed() (RFC 3522 Eifel detection): the ACK echoes a TSval sent before
// the episode's first retransmission, so an original filled the hole, or nothing was
// retransmitted at all.
bool Connection::packet_delayed(const TcpRepr& h) const {
  if (!retrans_ts_set_) return true;
  return ts_ok_ && h.opt.ts && h.opt.ts->ecr != 0 &&
         static_cast<int32_t>(h.opt.ts->ecr - retrans_ts_) < 0;
}

// Linux tcp_try_undo_dsack(): every retransmission of the episode was reported duplicate.
bool Connection::try_undo() {
  if (!undo_armed_ || undo_retrans_ != 0) return false;
  return undo_reduction();
}

// Linux tcp_undo_cwnd_reduction(): the window and threshold from before the episode, back
// to Open.
bool Connection::undo_reduction(bool unmark_loss) {
  if (!undo_armed_) return false;
  undo_armed_ = false;
  cc_->undo();
  ++stats_.undos;
  if (unmark_loss || ca_state_ == CaState::kLoss) sb_.clear_lost();
  if (ca_state_ != CaState::kOpen) {
    ca_state_ = CaState::kOpen;
    dupacks_ = 0;
    if (cfg_.rack) rack_.on_recovery_exit();
  }
  return true;
}

// Linux tcp_set_xmit_timer(): the loss probe if it applies, else the RTO.
void Connection::set_xmit_timer() {
  if (!schedule_tlp()) arm_rto();
}

// Linux tcp_schedule_loss_probe(): only in the Open state proper, i.e. not Disorder (nothing
// SACKed, lost or retransmitted outstanding), where RACK's own timer is in charge.
bool Connection::tlp_eligible() const {
  return cfg_.tlp && sack_ok_ && ca_state_ == CaState::kOpen && !sb_.empty() && can_send_data() &&
         sb_.sacked_bytes() == 0 && sb_.lost_bytes() == 0 && sb_.retrans_bytes() == 0 &&
         !sb_.at(0).has(TxSegment::kEverRetrans);
}

// RFC 8985 7.2: arm the probe timeout, never later than the RTO would fire.
bool Connection::schedule_tlp() {
  if (!tlp_eligible()) return false;
  uint64_t rto = rtt_.rto_us();
  uint64_t since = now_ - std::min(now_, sb_.at(0).xmit_us);
  uint64_t rto_left = rto > since ? rto - since : 1;
  uint64_t pto = tlp_timeout(rtt_.srtt_us(), rtt_.has_sample(), sb_.size() == 1, kWcDelAckUs,
                             cfg_.tlp_min_us, rto_left);
  rtx_deadline_ = now_ + pto;
  rtx_timer_ = RtxTimer::kTlp;
  return true;
}

// RFC 8985 7.3 / Linux tcp_send_loss_probe(): one new segment if the peer's window allows
// (whatever cwnd says), else the last segment again; then the RTO.
void Connection::on_tlp() {
  if (!can_send_data() || sb_.empty()) {
    if (!sb_.empty()) arm_rto();
    return;
  }
  if (tlp_out_) {  // one probe at a time (RFC 8985 7.3)
    arm_rto();
    return;
  }
  bool sent = false;
  tlp_retrans_ = false;
  Seq de = data_end();
  uint32_t unsent = de > snd_nxt_ ? de.since(snd_nxt_) : 0;
  Seq wnd_end = snd_una_ + snd_wnd_;
  uint32_t wnd_avail = wnd_end > snd_nxt_ ? wnd_end.since(snd_nxt_) : 0;
  uint32_t len = std::min(unsent, current_mss());
  if (len > 0 && len <= wnd_avail && !sb_.full()) {
    send_new(len, fin_queued_ && len == unsent);
    sent = true;
  }
  if (!sent && retransmit(sb_.size() - 1)) {
    sent = true;
    tlp_retrans_ = true;
  }
  if (sent) {
    tlp_out_ = true;
    tlp_high_seq_ = snd_max_;
    ++stats_.tlp_probes;
  }
  arm_rto();
}

// RFC 8985 6.3 / Linux tcp_rack_reo_timeout(): the reordering window passed.
void Connection::on_reo_timeout() {
  if (!can_send_data() || sb_.empty()) return;
  AckInfo ai;
  detect_loss(ai, false);
  if (ai.newly_lost > 0) {
    if (ca_state_ == CaState::kOpen) enter_sack_recovery();
    if (ca_state_ == CaState::kRecovery) {
      ai.delivered = snd_mss_;  // Linux: tcp_cwnd_reduction(sk, 1, ...)
      prr_update(ai);
    }
    arm_rto();
    output();
  }
  if (rtx_deadline_ == kNever || rtx_timer_ != RtxTimer::kRto) arm_rto();
}

// RFC 6298 5.4-5.7 and RFC 5681 3.1 (loss window); SYN retransmission per RFC 9293 3.8.1.
void Connection::on_rto() {
  if (state_ == State::kSynSent || state_ == State::kSynReceived) {
    uint32_t limit = state_ == State::kSynSent ? cfg_.syn_retries : cfg_.synack_retries;
    if (++retries_ > limit) {
      finish(CloseReason::kTimeout);
      return;
    }
    ++stats_.timeouts;
    ++stats_.retransmits;
    rtt_.backoff();
    rtt_timing_ = false;  // Karn
    syn_retransmitted_ = true;
    send_syn();
    arm_rto();
    return;
  }
  if (snd_una_ == snd_max_ || sb_.empty()) return;  // nothing outstanding
  if (++retries_ > cfg_.data_retries) {
    // Linux tcp_write_err(): ETIMEDOUT, no RST.
    finish(CloseReason::kTimeout);
    return;
  }
  ++stats_.timeouts;
  rtt_.backoff();
  // Linux tcp_enter_loss(): ssthresh is cut once per episode (not again on the backed-off
  // timeouts that follow, nor after fast recovery already cut it); cwnd becomes the loss
  // window (RFC 5681 3.1).
  bool cut = ca_state_ == CaState::kOpen;
  if (cut) init_undo();
  cc_->on_rto(snd_max_.since(snd_una_), cut);
  if (ca_state_ != CaState::kLoss) cc_->on_loss_event();
  // RFC 6582 4.1: no fast retransmit until an ACK passes what was sent before the timeout.
  ca_state_ = CaState::kLoss;
  recover_ = snd_max_;
  dupacks_ = 0;
  tlp_out_ = false;
  // Go back: every unSACKed segment is lost and is sent again as the window opens.
  sb_.mark_all_lost();
  retransmit_head();
  arm_rto();
}

}  // namespace tuntcp::proto::tcp
