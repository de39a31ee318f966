// Congestion control interface (RFC 5681 3, Linux tcp_congestion_ops).
//
// The loss-recovery state machine (fast retransmit, SACK recovery with PRR, NewReno partial
// ACKs, RTO, undo) lives in the connection. An algorithm decides only how the window grows
// (on_ack) and how far it is cut at a congestion event (loss_ssthresh); the window arithmetic
// that every algorithm shares (recovery entry, RFC 6582 inflation and deflation, loss window,
// undo) is here. All quantities are in bytes, times in microseconds (an argument, never a clock).
#pragma once

#include <algorithm>
#include <cstdint>

#include "proto/tcp/seq.h"

namespace tuntcp::proto::tcp {

// One ACK as the growth rule sees it.
struct AckSample {
  uint32_t acked = 0;     // bytes newly delivered: cumulatively acked plus newly SACKed
  uint64_t now_us = 0;
  Seq ack;                // SND.UNA after this ACK
  Seq snd_nxt;            // highest sequence sent (rounds for HyStart)
  int64_t rtt_us = -1;    // RTT measured by this ACK, -1 if none
  bool may_grow = true;   // false during a window reduction (recovery, CWR): only observe
};

class CongestionControl {
 public:
  static constexpr uint32_t kInfiniteSsthresh = 0x7fffffff;

  virtual ~CongestionControl() = default;
  virtual const char* name() const = 0;

  // Connection established with this sender MSS: the initial window, RFC 6928 2:
  // IW = min(10 * MSS, max(2 * MSS, 14600)).
  virtual void init(uint32_t mss) {
    mss_ = std::max<uint32_t>(mss, 1);
    cwnd_ = std::min(10 * mss_, std::max(2 * mss_, 14600u));
    ssthresh_ = kInfiniteSsthresh;  // RFC 5681 3.1: arbitrarily high initially
    prior_cwnd_ = cwnd_;
    prior_ssthresh_ = 0;
  }
  // Every ACK that delivers data or carries an RTT sample; the window grows only when
  // s.may_grow (slow start / congestion avoidance, RFC 5681 3.1).
  virtual void on_ack(const AckSample& s) = 0;
  // Congestion event: returns the new ssthresh and updates the algorithm's own state
  // (Linux ca_ops->ssthresh). flight is FlightSize in bytes.
  virtual uint32_t loss_ssthresh(uint32_t flight) = 0;
  // The connection entered the loss state after a timeout: the algorithm forgets its history
  // (Linux set_state(TCP_CA_Loss)).
  virtual void on_loss_event() {}
  // Sending resumes after the connection was idle for idle_us (Linux CA_EVENT_TX_START).
  virtual void on_idle_restart(uint64_t idle_us, uint64_t now_us) {
    (void)idle_us;
    (void)now_us;
  }

  // --- window arithmetic shared by all algorithms ---

  // RFC 5681 3.2 steps 2-3 / RFC 6582 3.2 step 2: fast retransmit without SACK; the window is
  // inflated by the three segments that left the network.
  void on_enter_recovery(uint32_t flight) {
    begin_reduction();
    ssthresh_ = loss_ssthresh(flight);
    cwnd_ = ssthresh_ + 3 * mss_;
    ca_acked_ = 0;
  }
  // RFC 5681 3.2 step 4: inflate by one SMSS per further duplicate ACK.
  void on_dupack_in_recovery() { cwnd_ = std::min(cwnd_ + mss_, kInfiniteSsthresh); }
  // RFC 6582 3.2 step 5: deflate by the amount acked, add back one SMSS if >= SMSS was acked.
  void on_partial_ack(uint32_t acked) {
    cwnd_ = acked < cwnd_ ? cwnd_ - acked : 0;
    if (acked >= mss_) cwnd_ += mss_;
    cwnd_ = std::max(cwnd_, mss_);
  }
  // RFC 6582 3.2 step 3, option (1): min(ssthresh, max(FlightSize, SMSS) + SMSS).
  void on_exit_recovery(uint32_t flight) {
    cwnd_ = std::min(ssthresh_, std::max(flight, mss_) + mss_);
    ca_acked_ = 0;
  }
  // SACK recovery (RFC 6675 5 / RFC 6937) and TLP-detected loss (RFC 8985 7.4.2, Linux CWR):
  // ssthresh is cut; the connection steers cwnd with set_cwnd() until the reduction ends.
  void on_enter_reduction(uint32_t flight) {
    begin_reduction();
    ssthresh_ = loss_ssthresh(flight);
    ca_acked_ = 0;
  }
  // Linux tcp_end_cwnd_reduction(): the reduction ends with cwnd = ssthresh.
  void on_end_reduction() {
    cwnd_ = ssthresh_;
    ca_acked_ = 0;
  }
  // RFC 5681 3.1 eq. (4) and the loss window of one segment (RFC 5681 3.1, Linux
  // tcp_enter_loss). first_timeout: ssthresh is cut only once per timeout episode.
  void on_rto(uint32_t flight, bool first_timeout) {
    if (first_timeout) {
      begin_reduction();
      ssthresh_ = loss_ssthresh(flight);
    }
    cwnd_ = mss_;
    ca_acked_ = 0;
  }
  // Linux tcp_undo_cwnd_reduction(): the congestion event was spurious (D-SACK showed every
  // retransmission arrived twice): restore the window and ssthresh saved at its start.
  void undo() {
    cwnd_ = std::max(cwnd_, prior_cwnd_);
    ssthresh_ = std::max(ssthresh_, prior_ssthresh_);
    ca_acked_ = 0;
  }
  void set_cwnd(uint32_t c) { cwnd_ = std::clamp(c, mss_, kInfiniteSsthresh); }

  uint32_t cwnd() const { return cwnd_; }
  uint32_t ssthresh() const { return ssthresh_; }
  uint32_t mss() const { return mss_; }
  uint32_t prior_cwnd() const { return prior_cwnd_; }
  bool in_slow_start() const { return cwnd_ < ssthresh_; }

 protected:
  // Saves what undo() restores. Linux tcp_current_ssthresh(): outside a reduction the window
  // in use is at least 3/4 cwnd.
  void begin_reduction() {
    prior_cwnd_ = cwnd_;
    prior_ssthresh_ = std::max(ssthresh_, (cwnd_ >> 1) + (cwnd_ >> 2));
  }

  uint32_t mss_ = 536;
  uint32_t cwnd_ = 0;
  uint32_t ssthresh_ = kInfiniteSsthresh;
  uint32_t ca_acked_ = 0;  // bytes acked toward the next congestion-avoidance increase
  uint32_t prior_cwnd_ = 0;
  uint32_t prior_ssthresh_ = 0;
};

}  // namespace tuntcp::proto::tcp
