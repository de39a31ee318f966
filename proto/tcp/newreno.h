// NewReno congestion control: RFC 5681 (slow start, congestion avoidance, fast retransmit and
// recovery), RFC 6582 (partial ACKs), RFC 6928 (initial window of 10 segments).
#pragma once

#include "proto/tcp/cc.h"

namespace tuntcp::proto::tcp {

class NewReno final : public CongestionControl {
 public:
  const char* name() const override { return "newreno"; }
  void init(uint32_t mss) override;
  void on_ack(uint32_t acked_bytes) override;
  void on_enter_recovery(uint32_t flight_size) override;
  void on_dupack_in_recovery() override;
  void on_partial_ack(uint32_t acked_bytes) override;
  void on_exit_recovery(uint32_t flight_size) override;
  void on_rto(uint32_t flight_size) override;
  uint32_t cwnd() const override { return cwnd_; }
  uint32_t ssthresh() const override { return ssthresh_; }

 private:
  uint32_t half_flight(uint32_t flight_size) const;

  uint32_t mss_ = 536;
  uint32_t cwnd_ = 0;
  uint32_t ssthresh_ = 0xffffffff;  // RFC 5681 3.1: arbitrarily high initially
  uint32_t ca_acked_ = 0;           // bytes acked toward the next congestion-avoidance increase
};

}  // namespace tuntcp::proto::tcp
