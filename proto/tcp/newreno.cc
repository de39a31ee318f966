#include "proto/tcp/newreno.h"

#include <algorithm>

#include "proto/tcp/cc_registry.h"
#include "proto/tcp/config.h"

namespace tuntcp::proto::tcp {

void NewReno::on_ack(const AckSample& s) {
  if (!s.may_grow || s.acked == 0) return;
  if (cwnd_ < ssthresh_) {
    // RFC 5681 3.1 slow start, with RFC 3465 appropriate byte counting (L = 2 * SMSS).
    uint64_t c = static_cast<uint64_t>(cwnd_) + std::min(s.acked, 2 * mss_);
    cwnd_ = static_cast<uint32_t>(std::min<uint64_t>(c, kInfiniteSsthresh));
    return;
  }
  // RFC 5681 3.1 congestion avoidance, byte counting: one SMSS per cwnd of acknowledged data.
  ca_acked_ += s.acked;
  if (ca_acked_ >= cwnd_) {
    ca_acked_ -= cwnd_;
    if (cwnd_ < kInfiniteSsthresh - mss_) cwnd_ += mss_;
  }
}

std::unique_ptr<CongestionControl> make_newreno(const Config&) {
  return std::make_unique<NewReno>();
}

}  // namespace tuntcp::proto::tcp
