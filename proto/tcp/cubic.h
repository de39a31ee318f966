// CUBIC congestion control (RFC 9438) with HyStart slow-start exit, following Linux
// net/ipv4/tcp_cubic.c where the RFC leaves a choice: beta 0.7, C 0.4, fast convergence on,
// the Reno-friendly region on, HyStart with ACK-train and delay detection from 16 segments.
// Window arithmetic is in bytes; the cubic function works in segments and seconds as the RFC
// writes it. Time is an argument (microseconds).
#pragma once

#include "proto/tcp/cc.h"

namespace tuntcp::proto::tcp {

class Cubic final : public CongestionControl {
 public:
  static constexpr double kBeta = 0.7;  // RFC 9438 4.6 (Linux 717/1024)
  static constexpr double kC = 0.4;     // RFC 9438 5 (Linux bic_scale 41 * 10 / 1024)
  // RFC 9438 4.3: alpha_cubic = 3 (1 - beta) / (1 + beta): Reno's average rate at beta 0.7.
  static constexpr double kAlpha = 3 * (1 - kBeta) / (1 + kBeta);
  static constexpr uint32_t kHystartLowWindow = 16;       // segments (Linux hystart_low_window)
  static constexpr uint64_t kHystartAckDeltaUs = 2000;    // Linux hystart_ack_delta_us
  static constexpr uint32_t kHystartMinSamples = 8;       // Linux HYSTART_MIN_SAMPLES
  static constexpr uint64_t kHystartDelayMinUs = 4000;    // Linux HYSTART_DELAY_MIN
  static constexpr uint64_t kHystartDelayMaxUs = 16000;   // Linux HYSTART_DELAY_MAX

  explicit Cubic(bool hystart = true) : hystart_(hystart) {}

  const char* name() const override { return "cubic"; }
  void init(uint32_t mss) override;
  void on_ack(const AckSample& s) override;
  uint32_t loss_ssthresh(uint32_t flight) override;
  void on_loss_event() override;
  void on_idle_restart(uint64_t idle_us, uint64_t now_us) override;

  // RFC 9438 4.2 eq. (1): W_cubic(t) = C (t - K)^3 + W_max, in segments, t in seconds since
  // the epoch began, for the current epoch (origin = W_max, or cwnd when above it).
  double w_cubic(double t_sec) const;
  double k_sec() const { return k_sec_; }
  double w_max_segments() const { return w_max_; }
  double w_est_segments() const { return w_est_; }
  bool hystart_found() const { return found_; }
  uint64_t delay_min_us() const { return delay_min_; }

 private:
  void reset();
  void hystart_reset(const AckSample& s);
  void hystart_update(const AckSample& s, uint64_t delay);
  double segments() const { return static_cast<double>(cwnd_) / mss_; }
  // Linux tcp_slow_start(): grow by the bytes acked up to ssthresh; returns what is left.
  uint32_t slow_start(uint32_t acked);
  // Linux bictcp_update(): acks per one-segment increase for this ACK (RFC 9438 4.2-4.4).
  double update_cnt(const AckSample& s, uint32_t acked);
  void grow(double cnt, uint32_t acked);

  bool hystart_;
  // RFC 9438 4.1 state.
  double w_max_ = 0;          // segments before the last reduction (0: none yet)
  bool epoch_ = false;        // a congestion-avoidance epoch is running
  uint64_t epoch_start_ = 0;  // us
  double origin_ = 0;         // segments: the plateau of the cubic function
  double k_sec_ = 0;          // RFC 9438 eq. (2)
  double w_est_ = 0;          // RFC 9438 4.3 Reno-friendly estimate, segments
  uint64_t delay_min_ = 0;    // us, smallest RTT seen (Linux delay_min)
  uint64_t credit_ = 0;       // bytes acked toward the next one-segment increase
  // HyStart (Linux bictcp_hystart_*).
  bool found_ = false;
  uint64_t round_start_ = 0;
  uint64_t last_ack_ = 0;
  Seq end_seq_;
  uint64_t curr_rtt_ = UINT64_MAX;
  uint32_t sample_cnt_ = 0;
  bool round_valid_ = false;
};

}  // namespace tuntcp::proto::tcp
