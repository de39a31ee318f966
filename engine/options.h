// Every command-line flag of tuntcp, with its default. parse_options() is the only place that
// knows CLI11; the rest of the engine reads this plain struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/impair_spec.h"
#include "proto/tcp/cc_registry.h"

namespace tuntcp::engine {

enum class LogLevel { kError = 0, kWarn, kInfo, kDebug };
enum class ReadMode { kMultishot, kSingle };
enum class SynCookieMode { kOff, kOn, kAlways };  // Linux tcp_syncookies = 0, 1, 2

struct Options {
  std::string dev = "tuntcp0";
  uint32_t queues = 1;
  uint32_t workers = 0;  // 0 = same as queues
  uint32_t addr = 0xc6120002;       // 198.18.0.2: tuntcp's own address
  uint32_t host_addr = 0xc6120001;  // 198.18.0.1: the kernel's side of the link
  uint8_t host_prefix = 24;         // 0 = leave the device's addresses alone
  uint32_t mtu = 1500;
  uint32_t txqueuelen = 1000;
  uint32_t ring_entries = 256;
  uint32_t pool_buffers = 0;        // in all, split over threads; 0 = auto (see pool_buffers_auto)
  bool offload = true;              // IFF_VNET_HDR + TSO/CSUM offloads
  uint32_t vnet_hdr_len() const { return offload ? 12 : 0; }
  uint32_t batch = 64;
  uint32_t reads_in_flight = 64;    // for --read-mode single
  ReadMode read_mode = ReadMode::kMultishot;
  bool busy_poll = false;           // threads spin instead of sleeping when idle
  bool tx_zero_copy = false;        // TSO segments written from the send ring (no copy of ours)
  bool sqpoll = false;              // kernel-side submission polling threads (IORING_SETUP_SQPOLL)
  std::vector<int> cpus;            // pin threads (readers first, then workers) round-robin
  double stats_interval = 0;        // seconds; 0 = only the summary at exit
  std::string stats_json;           // also write each interval as a JSON line here
  std::string pcap;                 // capture every datagram read and written here
  uint32_t pcap_snaplen = 65535;
  uint64_t pcap_max_mb = 1024;
  std::string user;                 // drop to this user (and every capability) after set-up
  bool attach = false;              // use an existing TUN device, leave its configuration alone
  double duration = 0;              // seconds; 0 = until SIGINT/SIGTERM
  uint32_t icmp_rate = 1000;        // ICMP errors per second per worker
  uint32_t icmp_burst = 50;
  LogLevel log_level = LogLevel::kInfo;
  // Fault injection at the TUN boundary (netem-like; engine/impair_spec.h): in = kernel ->
  // tuntcp, applied by the readers; out = tuntcp -> kernel, applied by the workers.
  ImpairSpec impair_in, impair_out;
  uint64_t impair_seed = 1;

  // TCP
  std::string services = "discard,echo,chargen,iperf3,iperf2";  // NAME[:PORT],... or none
  uint32_t max_connections = 65536;  // in all, split over workers
  uint32_t backlog = 4096;           // SYN-RECEIVED connections per listener per worker
  // SYN cookies (RFC 4987) when the backlog is full (on), for every SYN (always), or never.
  SynCookieMode syncookies = SynCookieMode::kOn;
  uint64_t max_memory_mb = 0;        // connection buffers summed, grown ones included; 0 = no cap
  uint32_t rcvbuf = 256 * 1024;      // per-connection receive buffer (bytes)
  uint32_t sndbuf = 256 * 1024;      // per-connection send buffer (bytes)
  // Auto-tuning limits (Linux tcp_rmem[2] / tcp_wmem[2]); 0 or <= the start: fixed buffers.
  uint32_t rcvbuf_max = 6 * 1024 * 1024;
  uint32_t sndbuf_max = 4 * 1024 * 1024;
  bool nodelay = false;              // disable Nagle
  bool ack_coalesce = true;          // one ACK per batch for in-order data
  proto::tcp::CcAlgo cc = proto::tcp::CcAlgo::kCubic;  // --cc, parsed once
  uint32_t min_rto_ms = 200;
  uint32_t challenge_ack_limit = 1000;  // RFC 5961 7 challenge ACKs per second and connection
  double time_wait = 60;             // seconds in TIME-WAIT (2*MSL)
  bool keepalive = false;
  double keepalive_idle = 7200, keepalive_interval = 75;
  uint32_t keepalive_count = 9;
  bool no_timestamps = false, no_sack = false, no_wscale = false;

  // Client mode: tuntcp opens one connection and exits when it is done.
  bool client = false;
  uint32_t connect_addr = 0;
  uint16_t connect_port = 0;
  uint64_t send_bytes = 0;     // pattern bytes to send (0 with --send-file: the whole file)
  std::string send_file;
  bool receive = false;        // count what the peer sends until it closes
};

// Parses argv. On success returns the options; on --help/--version prints and returns nullopt
// with exit_code 0; on a bad value prints one line to stderr and returns nullopt with
// exit_code 2.
std::optional<Options> parse_options(int argc, char** argv, int& exit_code);

// Human-readable description of the chosen configuration (printed at start-up).
std::string describe(const Options& o);

}  // namespace tuntcp::engine
