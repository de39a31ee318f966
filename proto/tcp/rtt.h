// Retransmission timeout estimation (RFC 6298).
#pragma once

#include <cstdint>

namespace tuntcp::proto::tcp {

class RttEstimator {
 public:
  RttEstimator(uint64_t initial_rto_us, uint64_t min_rto_us, uint64_t max_rto_us)
      : min_(min_rto_us), max_(max_rto_us), rto_(clamp(initial_rto_us)) {}

  // A round-trip measurement (RFC 6298 2.2 first sample, 2.3 later ones). Recomputes the RTO,
  // which also ends any exponential backoff (RFC 6298 5.7 / Karn: backoff lasts until a valid
  // sample arrives).
  void sample(uint64_t rtt_us);
  // RFC 6298 5.5: double the RTO on expiry, bounded by the maximum.
  void backoff() { rto_ = clamp(rto_ * 2); }
  // RFC 6298 5.7: after a retransmitted SYN and no sample, restart data transfer with 3 s.
  void fallback_after_syn_loss() {
    if (!has_sample_ && rto_ < 3'000'000) rto_ = clamp(3'000'000);
  }

  uint64_t rto_us() const { return rto_; }
  bool has_sample() const { return has_sample_; }
  uint64_t srtt_us() const { return srtt_; }
  uint64_t rttvar_us() const { return rttvar_; }

 private:
  static constexpr uint64_t kGranularityUs = 1000;  // G in RFC 6298 2: our clock ticks in 1 ms TS
  uint64_t clamp(uint64_t v) const { return v < min_ ? min_ : (v > max_ ? max_ : v); }

  uint64_t min_;
  uint64_t max_;
  uint64_t rto_;
  uint64_t srtt_ = 0;
  uint64_t rttvar_ = 0;
  bool has_sample_ = false;
};

}  // namespace tuntcp::proto::tcp
