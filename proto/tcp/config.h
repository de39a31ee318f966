// Per-connection settings. Defaults follow Linux where the RFCs leave a choice.
#pragma once

#include <cstdint>

#include "proto/tcp/cc_registry.h"

namespace tuntcp::proto::tcp {

struct Config {
  uint32_t local_addr = 0;  // IPv4, host order
  uint32_t remote_addr = 0;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;

  uint16_t mss = 1460;  // advertised: MTU - 40 (RFC 9293 3.7.1)
  // Largest payload of one emitted segment when the engine can segment (TSO: the kernel cuts a
  // super-segment into MSS-sized ones). 0 = one MSS. Rounded down to a multiple of the MSS.
  uint32_t tso_max = 0;
  // Receive and send buffers: the starting sizes. With a larger *_max the connection grows them
  // while the peer (receive) or the congestion window (send) needs more, as Linux's
  // tcp_rcv_space_adjust() and tcp_sndbuf_expand() do; 0 or <= the start keeps them fixed.
  uint32_t recv_buffer = 256 * 1024;
  uint32_t send_buffer = 256 * 1024;
  uint32_t recv_buffer_max = 0;
  uint32_t send_buffer_max = 0;

  bool window_scaling = true;  // RFC 7323 2
  bool timestamps = true;      // RFC 7323 3
  bool sack = true;            // RFC 2018 (receiver side: SACK blocks for out-of-order data)
  bool nodelay = false;        // true disables Nagle (RFC 9293 3.7.4)

  uint64_t rto_initial_us = 1'000'000;  // RFC 6298 2.1
  uint64_t rto_min_us = 200'000;        // Linux TCP_RTO_MIN
  uint64_t rto_max_us = 120'000'000;    // Linux TCP_RTO_MAX
  uint8_t syn_retries = 6;              // Linux tcp_syn_retries
  uint8_t synack_retries = 5;           // Linux tcp_synack_retries
  uint8_t data_retries = 15;            // Linux tcp_retries2

  uint64_t time_wait_us = 60'000'000;         // 2 * MSL (RFC 9293 3.4.2; Linux uses 60 s)
  uint64_t fin_wait2_timeout_us = 60'000'000;  // after close(): Linux tcp_fin_timeout
  uint64_t delayed_ack_us = 40'000;            // RFC 9293 3.8.6.3 allows up to 500 ms; Linux 40 ms
  // The engine processes segments in batches and calls flush_acks() after each batch: the
  // "every second full-sized segment" ACK is then sent once per batch for all the data that
  // arrived in it (as Linux does after GRO merged the segments). Immediate ACKs (out-of-order
  // data, a hole filled, a duplicate) are never deferred.
  bool coalesce_acks = false;

  bool keepalive = false;  // RFC 1122 4.2.3.6: off by default
  uint64_t keepalive_idle_us = 7200'000'000;
  uint64_t keepalive_interval_us = 75'000'000;
  uint32_t keepalive_count = 9;

  uint32_t challenge_ack_limit = 1000;      // RFC 5961 7: per second (Linux default)
  uint64_t oow_ack_interval_us = 500'000;   // Linux tcp_invalid_ratelimit for out-of-window ACKs

  CcAlgo cc = CcAlgo::kCubic;
  bool hystart = true;  // CUBIC slow-start exit (Linux tcp_cubic hystart=1)
  bool rack = true;     // RFC 8985 RACK loss detection with SACK (Linux tcp_recovery=1)
  bool tlp = true;      // RFC 8985 7 tail loss probe with SACK (Linux tcp_early_retrans=3)
  bool dsack = true;    // RFC 2883 D-SACK blocks for duplicate data (Linux tcp_dsack=1)
  uint64_t tlp_min_us = 10'000;  // lower bound of the probe timeout

  // Out-of-order data is stored in the receive buffer; this bounds the holes tracked in it.
  uint32_t max_ooo_ranges = 256;  // <= Reassembly::kCapacity
  uint32_t ts_offset = 0;         // added to our TSval clock (Linux randomizes it per connection)
};

}  // namespace tuntcp::proto::tcp
