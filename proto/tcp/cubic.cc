#include "proto/tcp/cubic.h"

#include <algorithm>
#include <cmath>

#include "proto/tcp/cc_registry.h"
#include "proto/tcp/config.h"

namespace tuntcp::proto::tcp {

void Cubic::reset() {
  w_max_ = 0;
  epoch_ = false;
  epoch_start_ = 0;
  origin_ = 0;
  k_sec_ = 0;
  w_est_ = 0;
  delay_min_ = 0;
  credit_ = 0;
  found_ = false;
  round_valid_ = false;
}

void Cubic::init(uint32_t mss) {
  CongestionControl::init(mss);
  reset();
}

// Linux bictcp_recalc_ssthresh(): RFC 9438 4.6 (beta) and 4.7 (fast convergence).
uint32_t Cubic::loss_ssthresh(uint32_t flight) {
  (void)flight;  // Linux and RFC 9438 4.6 reduce from cwnd, not FlightSize
  epoch_ = false;
  double w = segments();
  // RFC 9438 4.7: a flow releasing bandwidth remembers a lower plateau, (1 + beta) / 2.
  w_max_ = w < w_max_ ? w * (1 + kBeta) / 2 : w;
  uint64_t s = static_cast<uint64_t>(static_cast<double>(cwnd_) * kBeta);
  s = s / mss_ * mss_;  // whole segments, as Linux counts packets
  return static_cast<uint32_t>(std::max<uint64_t>(s, 2 * mss_));
}

// Linux bictcp_state(TCP_CA_Loss): after a timeout CUBIC starts over (bictcp_reset).
void Cubic::on_loss_event() { reset(); }

// Linux cubictcp_cwnd_event(CA_EVENT_TX_START): the idle time does not count as epoch time
// (RFC 9438 5.8), so the window does not jump after an application-limited pause.
void Cubic::on_idle_restart(uint64_t idle_us, uint64_t now_us) {
  if (!epoch_) return;
  epoch_start_ = std::min(epoch_start_ + idle_us, now_us);
}

double Cubic::w_cubic(double t) const {
  double d = t - k_sec_;
  return kC * d * d * d + origin_;
}

void Cubic::hystart_reset(const AckSample& s) {
  round_start_ = last_ack_ = s.now_us;
  end_seq_ = s.snd_nxt;
  curr_rtt_ = UINT64_MAX;
  sample_cnt_ = 0;
  round_valid_ = true;
}

// Linux hystart_update(): leave slow start (ssthresh = cwnd) when a round's ACK train lasts
// longer than half the minimum RTT, or when the RTT of a round rises by delay_min/8
// (clamped to 4-16 ms) over the minimum.
void Cubic::hystart_update(const AckSample& s, uint64_t delay) {
  if (!round_valid_ || s.ack > end_seq_) hystart_reset(s);
  if (s.now_us - last_ack_ <= kHystartAckDeltaUs) {
    last_ack_ = s.now_us;
    uint64_t threshold = delay_min_ / 2;  // no pacing: packets leave in bursts
    if (s.now_us - round_start_ > threshold) {
      found_ = true;
      ssthresh_ = cwnd_;
    }
  }
  curr_rtt_ = std::min(curr_rtt_, delay);
  if (sample_cnt_ < kHystartMinSamples) {
    ++sample_cnt_;
  } else if (curr_rtt_ > delay_min_ + std::clamp(delay_min_ >> 3, kHystartDelayMinUs, kHystartDelayMaxUs)) {
    found_ = true;
    ssthresh_ = cwnd_;
  }
}

uint32_t Cubic::slow_start(uint32_t acked) {
  uint64_t c = std::min<uint64_t>(uint64_t{cwnd_} + acked, ssthresh_);
  uint32_t used = static_cast<uint32_t>(c - cwnd_);
  cwnd_ = static_cast<uint32_t>(c);
  return acked - used;
}

double Cubic::update_cnt(const AckSample& s, uint32_t acked) {
  double w = segments();
  double acked_seg = static_cast<double>(acked) / mss_;
  if (!epoch_) {
    // RFC 9438 4.2: a new epoch starts at the first ACK of congestion avoidance.
    epoch_ = true;
    epoch_start_ = s.now_us;
    w_est_ = w;  // RFC 9438 4.3: W_est starts at cwnd
    if (w_max_ <= w) {
      k_sec_ = 0;
      origin_ = w;
    } else {
      k_sec_ = std::cbrt((w_max_ - w) / kC);  // RFC 9438 eq. (2)
      origin_ = w_max_;
    }
  } else {
    // RFC 9438 4.3 eq. (4): W_est += alpha_cubic * segments_acked / cwnd.
    w_est_ += kAlpha * acked_seg / w;
  }
  // RFC 9438 4.2: the target is W_cubic one RTT ahead (Linux adds the minimum RTT).
  double t = static_cast<double>(s.now_us - epoch_start_ + delay_min_) / 1e6;
  double target = w_cubic(t);
  double cnt = target > w ? w / (target - w) : 100 * w;
  // Linux: while the capacity is unknown (no loss yet) grow at most 5% per RTT.
  if (w_max_ == 0 && cnt > 20) cnt = 20;
  // RFC 9438 4.3: Reno-friendly region, grow at least as fast as Reno would.
  if (w_est_ > w) cnt = std::min(cnt, w / (w_est_ - w));
  // RFC 9438 4.4: at most 1.5 cwnd per RTT (one segment per two acked).
  return std::max(cnt, 2.0);
}

// Linux tcp_cong_avoid_ai() in bytes: one segment per cnt segments acknowledged.
void Cubic::grow(double cnt, uint32_t acked) {
  uint64_t per = static_cast<uint64_t>(cnt * mss_);
  per = std::max<uint64_t>(per, 1);
  if (credit_ >= per) {  // credit earned at a slower rate: apply it gently
    credit_ = 0;
    cwnd_ = std::min(cwnd_ + mss_, kInfiniteSsthresh);
  }
  credit_ += acked;
  if (credit_ >= per) {
    uint64_t n = credit_ / per;
    credit_ -= n * per;
    cwnd_ = static_cast<uint32_t>(std::min<uint64_t>(cwnd_ + n * mss_, kInfiniteSsthresh));
  }
}

void Cubic::on_ack(const AckSample& s) {
  if (s.rtt_us >= 0) {
    // Linux bictcp_acked(): delay samples right after a reduction are discarded (1 s).
    bool fresh_epoch = epoch_ && s.now_us - epoch_start_ < 1'000'000;
    if (!fresh_epoch) {
      uint64_t delay = std::max<uint64_t>(static_cast<uint64_t>(s.rtt_us), 1);
      if (delay_min_ == 0 || delay < delay_min_) delay_min_ = delay;
      if (hystart_ && !found_ && in_slow_start() && cwnd_ >= kHystartLowWindow * mss_)
        hystart_update(s, delay);
    }
  }
  if (!s.may_grow || s.acked == 0) return;
  uint32_t acked = s.acked;
  if (in_slow_start()) {
    acked = slow_start(acked);  // RFC 9438 4.10: standard slow start below ssthresh
    if (acked == 0) return;
  }
  grow(update_cnt(s, acked), acked);
}

std::unique_ptr<CongestionControl> make_cubic(const Config& cfg) {
  return std::make_unique<Cubic>(cfg.hystart);
}

}  // namespace tuntcp::proto::tcp
