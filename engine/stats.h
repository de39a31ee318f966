// Per-thread counters. Each thread owns one block and is its only writer; readers of the
// numbers (the stats printer) load them with relaxed atomics. An increment is a plain load,
// add and store: no lock prefix, no shared cache line (each block is cache-line aligned).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tuntcp::engine {

class Counter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Why a worker dropped a packet. IPv4 and ICMP reasons mirror proto's enums.
enum class Drop : uint8_t {
  kIpTruncated,
  kIpNotIpv4,
  kIpBadIhl,
  kIpBadTotalLength,
  kIpBadChecksum,
  kIpBadSource,
  kIpNotForUs,
  kIpFragment,
  kIcmpTruncated,
  kIcmpBadChecksum,
  kTcpUnhandled,      // TCP arrives before the TCP layer is wired in
  kIcmpErrorLimited,  // an ICMP error we owed was suppressed by the rate limit
  kTxNoBuffer,        // a reply was needed but the worker's pool partition was empty
  kTxError,           // the TUN write failed
  kCount
};
std::string_view to_string(Drop d);

struct alignas(64) ReaderStats {
  Counter rx_packets, rx_bytes;
  Counter handoffs, handoff_batches;  // packets and bulk enqueues to workers
  Counter wakeups;                    // eventfd writes to wake a sleeping worker
  Counter pool_exhausted;             // the provided-buffer ring ran dry (reads paused)
  Counter read_errors;
  Counter rearms;                     // multishot reads armed again after ending
};

struct alignas(64) WorkerStats {
  Counter packets;  // taken from the hand-off queue
  Counter tx_packets, tx_bytes;
  Counter icmp_echo_replies, icmp_other, icmp_errors_sent;
  Counter batches, sleeps;
  std::array<Counter, static_cast<size_t>(Drop::kCount)> drops;
  void drop(Drop d) { drops[static_cast<size_t>(d)].add(); }
};

// A plain-number copy of all counters, summed over threads, for printing and rate maths.
struct Totals {
  uint64_t rx_packets = 0, rx_bytes = 0, handoffs = 0, handoff_batches = 0, wakeups = 0;
  uint64_t pool_exhausted = 0, read_errors = 0, rearms = 0;
  uint64_t worker_packets = 0, tx_packets = 0, tx_bytes = 0;
  uint64_t icmp_echo_replies = 0, icmp_other = 0, icmp_errors_sent = 0, batches = 0, sleeps = 0;
  std::array<uint64_t, static_cast<size_t>(Drop::kCount)> drops{};
  uint64_t drops_total() const;
};
Totals sum(const std::vector<const ReaderStats*>& readers,
           const std::vector<const WorkerStats*>& workers);

// One line for --stats-interval: rates over `seconds` since `prev`.
std::string format_interval(const Totals& now, const Totals& prev, double elapsed, double seconds,
                            uint64_t pool_in_use, uint64_t pool_total);
// The multi-line summary printed at exit: every non-zero counter as "name value".
std::string format_summary(const Totals& t, double seconds);

}  // namespace tuntcp::engine
