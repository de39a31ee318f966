// NewReno congestion control: RFC 5681 (slow start, congestion avoidance, fast retransmit and
// recovery), RFC 6582 (partial ACKs, in cc.h), RFC 6928 (initial window of 10 segments).
#pragma once

#include "proto/tcp/cc.h"

namespace tuntcp::proto::tcp {

class NewReno final : public CongestionControl {
 public:
  const char* name() const override { return "newreno"; }
  void on_ack(const AckSample& s) override;
  // RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 * SMSS).
  uint32_t loss_ssthresh(uint32_t flight) override { return std::max(flight / 2, 2 * mss_); }
};

}  // namespace tuntcp::proto::tcp
