#include "proto/tcp/newreno.h"

#include <algorithm>

namespace tuntcp::proto::tcp {

void NewReno::init(uint32_t mss) {
  mss_ = std::max<uint32_t>(mss, 1);
  // RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)).
  cwnd_ = std::min(10 * mss_, std::max(2 * mss_, 14600u));
  ssthresh_ = 0xffffffff;
  ca_acked_ = 0;
}

void NewReno::on_ack(uint32_t acked) {
  if (cwnd_ < ssthresh_) {
    // RFC 5681 3.1 slow start, with RFC 3465 appropriate byte counting (L = 2 * SMSS).
    uint64_t c = static_cast<uint64_t>(cwnd_) + std::min(acked, 2 * mss_);
    cwnd_ = static_cast<uint32_t>(std::min<uint64_t>(c, 0x7fffffff));
    return;
  }
  // RFC 5681 3.1 congestion avoidance, byte counting: one SMSS per cwnd of acknowledged data.
  ca_acked_ += acked;
  if (ca_acked_ >= cwnd_) {
    ca_acked_ -= cwnd_;
    if (cwnd_ < 0x7fffffff - mss_) cwnd_ += mss_;
  }
}

// RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 * SMSS).
uint32_t NewReno::half_flight(uint32_t flight) const { return std::max(flight / 2, 2 * mss_); }

void NewReno::on_enter_recovery(uint32_t flight) {
  // RFC 6582 3.2 step 2 / RFC 5681 3.2 steps 2-3.
  ssthresh_ = half_flight(flight);
  cwnd_ = ssthresh_ + 3 * mss_;
  ca_acked_ = 0;
}

// RFC 5681 3.2 step 4: inflate by one SMSS per further duplicate ACK.
void NewReno::on_dupack_in_recovery() { cwnd_ += mss_; }

void NewReno::on_partial_ack(uint32_t acked) {
  // RFC 6582 3.2 step 5: deflate by the amount acked, add back one SMSS if >= SMSS was acked.
  cwnd_ = acked < cwnd_ ? cwnd_ - acked : 0;
  if (acked >= mss_) cwnd_ += mss_;
  cwnd_ = std::max(cwnd_, mss_);
}

void NewReno::on_exit_recovery(uint32_t flight) {
  // RFC 6582 3.2 step 3, option (1): min(ssthresh, max(FlightSize, SMSS) + SMSS).
  cwnd_ = std::min(ssthresh_, std::max(flight, mss_) + mss_);
  ca_acked_ = 0;
}

void NewReno::on_rto(uint32_t flight) {
  // RFC 5681 3.1 eq. (4) and loss window of one segment.
  ssthresh_ = half_flight(flight);
  cwnd_ = mss_;
  ca_acked_ = 0;
}

}  // namespace tuntcp::proto::tcp
