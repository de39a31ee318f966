// Per-thread counters. Each thread owns one block and is its only writer; readers of the
// numbers (the stats printer) load them with relaxed atomics. An increment is a plain load,
// add and store: no lock prefix, no shared cache line (each block is cache-line aligned).
//
// The counter lists below are the single place a counter is named: the structs, the sums and
// the printed summary are all generated from them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/tcp/stats.h"

namespace tuntcp::engine {

class Counter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void sub(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// X(name): what --impair did to one direction (dir: in or out; engine/impair.h). dropped counts
// losses and blackouts, overflow the packets dropped because the held (delay) queue was full,
// reordered the packets sent at once while others were held.
#define TUNTCP_IMPAIR_COUNTERS(X, dir)                                              \
  X(impair_##dir##_dropped) X(impair_##dir##_delayed) X(impair_##dir##_duplicated)  \
  X(impair_##dir##_corrupted) X(impair_##dir##_reordered) X(impair_##dir##_overflow)

// X(name): counters of a reader thread.
#define TUNTCP_READER_COUNTERS(X)                                              \
  X(rx_packets) X(rx_bytes)                                                    \
  X(handoffs)        /* packets handed to workers */                          \
  X(handoff_batches) /* bulk enqueues */                                       \
  X(worker_wakeups)  /* eventfd writes to wake a sleeping worker */            \
  X(pool_exhausted)  /* the provided-buffer ring ran dry (reads paused) */     \
  X(read_errors)                                                               \
  X(rearms)          /* multishot reads armed again after ending */            \
  TUNTCP_IMPAIR_COUNTERS(X, in)  /* --impair-in: kernel -> tuntcp */

// X(name): counters of a worker thread.
#define TUNTCP_WORKER_COUNTERS(X)                                                   \
  X(packets) X(tx_packets) X(tx_bytes)                                              \
  X(tx_retries)             /* TUN writes refused for now (EAGAIN/ENOBUFS) and written again */ \
  X(tx_zero_copy)           /* TSO segments written from the send ring (--tx-zero-copy) */ \
  X(icmp_echo_replies) X(icmp_other) X(icmp_errors_sent)                            \
  X(batches) X(sleeps)                                                              \
  X(tcp_segments_in)        /* TCP segments that reached the stack, for a connection or not */ \
  X(tcp_segments_out)       /* TCP segments the stack sent, stateless replies included */ \
  X(tcp_passive_opens) X(tcp_active_opens) X(tcp_established)                       \
  X(tcp_closed_normal) X(tcp_closed_reset) X(tcp_closed_timeout) X(tcp_closed_aborted) \
  X(tcp_conns_open)         /* gauge: connection objects alive (TIME-WAIT included) */ \
  /* the counters of every connection, summed when it closes (proto/tcp/stats.h) */ \
  TUNTCP_TCP_CONN_COUNTERS(X, tcp_)                                                 \
  X(tcp_refused)            /* segments to closed ports (answered with RST) */       \
  X(tcp_refused_max_conns) X(tcp_syn_backlog_drops)                                \
  X(tcp_refused_memory)    /* SYNs refused by --max-memory */                      \
  X(tcp_syncookies_sent) X(tcp_syncookies_ok) X(tcp_syncookies_failed) /* RFC 4987 */ \
  TUNTCP_IMPAIR_COUNTERS(X, out) /* --impair-out: tuntcp -> kernel */

// Why a worker dropped a packet. IPv4 and ICMP reasons mirror proto's enums.
#define TUNTCP_DROPS(X)                                                                  \
  X(ip_truncated) X(ip_not_ipv4) X(ip_bad_ihl) X(ip_bad_total_length) X(ip_bad_checksum) \
  X(ip_bad_source) X(ip_not_for_us) X(ip_fragment)                                       \
  X(icmp_truncated) X(icmp_bad_checksum)                                                 \
  X(tcp_bad_checksum) X(tcp_malformed)                                                   \
  X(icmp_error_ratelimited) /* an ICMP error we owed was suppressed by the rate limit */ \
  X(tx_no_buffer)           /* something to send but the worker's partition was empty */ \
  X(tx_error)               /* the TUN write failed (or a retry was given up at shutdown) */

enum class Drop : uint8_t {
#define X(n) k_##n,
  TUNTCP_DROPS(X)
#undef X
  kCount
};
std::string_view to_string(Drop d);

// TCP states at shutdown, indexed like proto::tcp::State.
inline constexpr size_t kTcpStates = 11;

struct alignas(64) ReaderStats {
#define X(n) Counter n;
  TUNTCP_READER_COUNTERS(X)
#undef X
};

struct alignas(64) WorkerStats {
#define X(n) Counter n;
  TUNTCP_WORKER_COUNTERS(X)
#undef X
  std::array<Counter, static_cast<size_t>(Drop::kCount)> drops;
  std::array<Counter, kTcpStates> tcp_state_at_exit;
  void drop(Drop d) { drops[static_cast<size_t>(d)].add(); }
};

// A plain-number copy of all counters, summed over threads, for printing and rate maths.
struct Totals {
#define X(n) uint64_t n = 0;
  TUNTCP_READER_COUNTERS(X)
  TUNTCP_WORKER_COUNTERS(X)
#undef X
  std::array<uint64_t, static_cast<size_t>(Drop::kCount)> drops{};
  std::array<uint64_t, kTcpStates> tcp_state_at_exit{};
  uint64_t drops_total() const;
};
Totals sum(const std::vector<const ReaderStats*>& readers,
           const std::vector<const WorkerStats*>& workers);

// CPU use of one thread over an interval, for the live view.
struct ThreadCpu {
  std::string name;  // "r0" for reader 0, "w1" for worker 1
  double percent;    // of one core
};

// What one --stats-interval report shows, computed from two snapshots.
struct Interval {
  double elapsed = 0;  // seconds since start
  double seconds = 0;  // length of this interval
  const Totals* now = nullptr;
  const Totals* prev = nullptr;
  uint64_t pool_in_use = 0, pool_total = 0;
  std::vector<ThreadCpu> cpu;
};
// One human-readable line in the style of iperf.
std::string format_interval(const Interval& iv);
// The same as one JSON object on one line (--stats-json), with every counter.
std::string format_interval_json(const Interval& iv);
// Every counter of one thread as "name value" lines (for the SIGUSR1 dump).
std::string format_thread(const std::string& name, const Totals& t);
// The multi-line summary printed at exit: "name value" per counter, drops by reason.
std::string format_summary(const Totals& t, double seconds);

}  // namespace tuntcp::engine
