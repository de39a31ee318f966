// Congestion control interface. The loss-recovery state machine (fast retransmit, NewReno
// partial ACKs, RTO) lives in the connection; an algorithm only decides cwnd and ssthresh at
// each event, so CUBIC can be added beside NewReno without touching recovery.
// All quantities are in bytes.
#pragma once

#include <cstdint>

namespace tuntcp::proto::tcp {

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;
  virtual const char* name() const = 0;
  // Connection established with this sender MSS: set the initial window.
  virtual void init(uint32_t mss) = 0;
  // New data acknowledged outside recovery (slow start / congestion avoidance).
  virtual void on_ack(uint32_t acked_bytes) = 0;
  // Third duplicate ACK: fast retransmit begins.
  virtual void on_enter_recovery(uint32_t flight_size) = 0;
  // Further duplicate ACK during recovery (window inflation).
  virtual void on_dupack_in_recovery() = 0;
  // ACK that advances SND.UNA but not past the recovery point.
  virtual void on_partial_ack(uint32_t acked_bytes) = 0;
  // ACK that covers the recovery point.
  virtual void on_exit_recovery(uint32_t flight_size) = 0;
  // Retransmission timeout.
  virtual void on_rto(uint32_t flight_size) = 0;

  virtual uint32_t cwnd() const = 0;
  virtual uint32_t ssthresh() const = 0;
};

}  // namespace tuntcp::proto::tcp
