#include "proto/tcp/rtt.h"

#include <algorithm>

namespace tuntcp::proto::tcp {

void RttEstimator::sample(uint64_t r) {
  if (!has_sample_) {
    // RFC 6298 2.2
    srtt_ = r;
    rttvar_ = r / 2;
    has_sample_ = true;
  } else {
    // RFC 6298 2.3, alpha = 1/8, beta = 1/4
    uint64_t diff = srtt_ > r ? srtt_ - r : r - srtt_;
    rttvar_ = (3 * rttvar_ + diff) / 4;
    srtt_ = (7 * srtt_ + r) / 8;
  }
  // RFC 6298 2.2-2.5: RTO = SRTT + max(G, 4 * RTTVAR), bounded below and above.
  rto_ = clamp(srtt_ + std::max(kGranularityUs, 4 * rttvar_));
}

}  // namespace tuntcp::proto::tcp
