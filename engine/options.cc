#include "engine/options.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "engine/services/services.h"
#include "engine/version.h"
#include "proto/ipv4.h"

namespace tuntcp::engine {
namespace {

using proto::format_ipv4_addr;
using proto::parse_ipv4_addr;

// CPU numbers must fit a cpu_set_t (CPU_SETSIZE).
constexpr int kMaxCpus = 1024;

// "0,2,4-7" -> {0,2,4,5,6,7}. Returns an error message, empty on success.
std::string parse_cpu_list(const std::string& text, std::vector<int>& out) {
  out.clear();
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    int lo, hi;
    const char* b = part.data();
    const char* e = b + part.size();
    auto [p, ec] = std::from_chars(b, e, lo);
    if (ec != std::errc() || lo < 0 || lo >= kMaxCpus) return "bad CPU number in '" + part + "'";
    hi = lo;
    if (p != e) {
      if (*p != '-') return "bad CPU range '" + part + "'";
      auto [p2, ec2] = std::from_chars(p + 1, e, hi);
      if (ec2 != std::errc() || p2 != e || hi < lo || hi >= kMaxCpus)
        return "bad CPU range '" + part + "'";
    }
    for (int c = lo; c <= hi; ++c) out.push_back(c);
  }
  if (out.empty()) return "empty CPU list";
  return {};
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options o;
  CLI::App app{
      "tuntcp: a multi-threaded user-space TCP/IP engine on a multi-queue TUN device.\n"
      "It creates the TUN device, gives the kernel's side --host-addr, answers as --addr,\n"
      "and serves what the kernel sends there: ICMP echo (ping) and TCP services, or\n"
      "opens a TCP connection itself (--connect).\n"
      "Needs root or CAP_NET_ADMIN. Run it inside a network namespace for experiments.",
      "tuntcp"};
  app.get_formatter()->column_width(34);
  app.set_version_flag("--version", version_string());

  std::string addr = format_ipv4_addr(o.addr);
  std::string host = format_ipv4_addr(o.host_addr) + "/" + std::to_string(o.host_prefix);
  std::string cpus, read_mode = "multishot", log_level = "info";

  app.add_option("--dev", o.dev, "TUN device name (created if missing)")->capture_default_str();
  app.add_option("--queues", o.queues, "TUN queues, one io_uring reader thread each")
      ->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--workers", o.workers, "connection worker threads (0 = same as --queues)")
      ->capture_default_str()->check(CLI::Range(0, 256));
  app.add_option("--addr", addr, "tuntcp's own IPv4 address (the kernel reaches it via the TUN)")
      ->capture_default_str();
  app.add_option("--host-addr", host,
                 "address/prefix configured on the TUN for the kernel's side; 'none' leaves the "
                 "device's addresses alone")
      ->capture_default_str();
  app.add_option("--mtu", o.mtu, "TUN MTU in bytes")->capture_default_str()->check(CLI::Range(576, 65535));
  app.add_option("--txqueuelen", o.txqueuelen,
                 "kernel-side TUN queue length; the kernel drops there when tuntcp reads too slowly")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--ring-entries", o.ring_entries, "io_uring submission queue entries per thread")
      ->capture_default_str()->check(CLI::Range(8, 32768));
  app.add_option("--pool-buffers", o.pool_buffers,
                 "packet buffers in all, split evenly over readers and workers (0 = auto: 8192, "
                 "or 2048 of 64 KB with --offload on)")
      ->capture_default_str()->check(CLI::Range(0, 1 << 22));
  std::string offload = "on";
  app.add_option("--offload", offload,
                 "on: IFF_VNET_HDR with checksum and TSO offloads (64 KB super-segments both ways); "
                 "off: one MTU-sized packet per read and write")
      ->capture_default_str()->check(CLI::IsMember({"on", "off"}));
  app.add_option("--batch", o.batch, "packets a worker takes from its queue per round")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--read-mode", read_mode,
                 "multishot: one multishot read per queue; single: --reads-in-flight reads")
      ->capture_default_str()->check(CLI::IsMember({"multishot", "single"}));
  app.add_option("--reads-in-flight", o.reads_in_flight, "reads kept in flight with --read-mode single")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  std::string tx_copy = "off";
  app.add_option("--tx-zero-copy", tx_copy,
                 "on: a TSO super-segment (with --offload) is written to the TUN straight from the "
                 "connection's send ring (WRITEV: headers from a pool buffer, payload in place), so "
                 "the kernel's copy is the only one; off: the payload is copied into a pool "
                 "buffer first and written with WRITE_FIXED from the registered pool, which "
                 "measured as fast here. Off anyway with --sqpoll, --pcap or --impair-out")
      ->capture_default_str()->check(CLI::IsMember({"on", "off"}));
  app.add_flag("--busy-poll", o.busy_poll,
               "readers and workers spin instead of sleeping when idle: lowest latency, one core "
               "each at 100 %");
  app.add_flag("--sqpoll", o.sqpoll,
               "io_uring submission-queue polling: a kernel thread per ring picks up submissions "
               "(no system call per batch; costs CPU)");
  app.add_option("--cpus", cpus, "pin threads to these CPUs, e.g. 0,1 or 2-5 (readers first, then "
                 "workers, round-robin); default: not pinned");
  app.add_option("--stats-interval", o.stats_interval,
                 "print a stats line every N seconds (0 = only the summary at exit)")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0));
  app.add_option("--stats-json", o.stats_json,
                 "also write each --stats-interval report as one JSON object per line to FILE");
  app.add_option("--pcap", o.pcap,
                 "write every datagram read from and written to the TUN to FILE (pcap, link type "
                 "raw IP); a thread of its own writes it, the packet path never waits");
  app.add_option("--pcap-snaplen", o.pcap_snaplen, "bytes of each datagram kept in the capture")
      ->capture_default_str()->check(CLI::Range(20u, 65535u));
  app.add_option("--pcap-max-mb", o.pcap_max_mb, "stop capturing when the file reaches this size (MiB)")
      ->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  app.add_option("--user", o.user,
                 "after the TUN and addresses are set up, switch to this user and drop every "
                 "capability (needs root)");
  app.add_flag("--attach", o.attach,
               "use an existing persistent multi-queue TUN (ip tuntap add NAME mode tun "
               "multi_queue) and leave its addresses, MTU and link state alone");
  app.add_option("--duration", o.duration, "exit after N seconds (0 = run until SIGINT/SIGTERM)")
      ->capture_default_str()->check(CLI::Range(0.0, 1e9));
  app.add_option("--icmp-ratelimit", o.icmp_rate,
                 "ICMP error messages per second per worker (0 = never send errors)")
      ->capture_default_str()->check(CLI::Range(0, 1000000));
  app.add_option("--icmp-burst", o.icmp_burst, "ICMP error burst size")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  std::string impair, impair_in, impair_out;
  app.add_option("--impair", impair,
                 "impair both directions of the TUN link, netem-like: e.g. 'loss=1%,delay=20ms,"
                 "jitter=5ms,reorder=25%,duplicate=5%,corrupt=1%,rate=100mbit,limit=1000,"
                 "blackout=5s@3s' (blackout: dark for 5 s from 3 s after start)");
  app.add_option("--impair-in", impair_in, "impair only kernel -> tuntcp (same syntax as --impair)");
  app.add_option("--impair-out", impair_out, "impair only tuntcp -> kernel (same syntax as --impair)");
  app.add_option("--impair-seed", o.impair_seed, "seed of the impairment's random numbers (runs repeat)")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "error, warn, info or debug")
      ->capture_default_str()->check(CLI::IsMember({"error", "warn", "info", "debug"}));

  app.add_option("--services", o.services,
                 "TCP services to listen on, NAME[:PORT],... or none; known: " +
                     services::describe_services())
      ->capture_default_str();
  app.add_option("--max-connections", o.max_connections,
                 "TCP connections in all (TIME-WAIT included); beyond it SYNs get RST")
      ->capture_default_str()->check(CLI::Range(1u, 1000000u));
  app.add_option("--backlog", o.backlog, "half-open (SYN-RECEIVED) connections per listener per worker; "
                 "beyond it SYNs get a SYN cookie or are dropped (--syncookies)")
      ->capture_default_str()->check(CLI::Range(1u, 10000000u));
  std::string syncookies = "on";
  app.add_option("--syncookies", syncookies,
                 "SYN cookies (RFC 4987): on: answer SYNs beyond --backlog statelessly instead of "
                 "dropping them (Linux tcp_syncookies=1); always: every SYN; off: drop them")
      ->capture_default_str()->check(CLI::IsMember({"on", "off", "always"}));
  app.add_option("--max-memory", o.max_memory_mb,
                 "cap in MiB on the connection buffers summed over all connections: each reserves "
                 "--rcvbuf + --sndbuf when it opens (a SYN beyond the cap gets RST) and auto-tuning "
                 "grows buffers only within the cap (0 = no cap)")
      ->capture_default_str()->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30));
  app.add_option("--rcvbuf", o.rcvbuf,
                 "per-connection receive buffer in bytes at the start (bounds the window)")
      ->capture_default_str()->check(CLI::Range(4096u, 1u << 30));
  app.add_option("--sndbuf", o.sndbuf, "per-connection send buffer in bytes at the start")
      ->capture_default_str()->check(CLI::Range(4096u, 1u << 30));
  app.add_option("--rcvbuf-max", o.rcvbuf_max,
                 "receive-buffer auto-tuning limit: the buffer and window grow while the sender "
                 "needs more per round trip (Linux tcp_rcv_space_adjust, tcp_rmem[2]); 0 or not "
                 "above --rcvbuf: fixed")
      ->capture_default_str()->check(CLI::Range(0u, 1u << 30));
  app.add_option("--sndbuf-max", o.sndbuf_max,
                 "send-buffer auto-tuning limit: the buffer grows while it, not the congestion "
                 "or peer window, limits the data in flight (Linux tcp_sndbuf_expand, "
                 "tcp_wmem[2]); 0 or not above --sndbuf: fixed")
      ->capture_default_str()->check(CLI::Range(0u, 1u << 30));
  std::string cc(proto::tcp::cc_name(o.cc));
  app.add_option("--cc", cc, "congestion control: " + proto::tcp::cc_help())
      ->capture_default_str()
      ->check([](const std::string& v) {
        return proto::tcp::parse_cc(v) ? std::string()
                                       : "no congestion controller '" + v +
                                             "' (there are: " + proto::tcp::cc_names() + ")";
      });
  std::string ack_coalesce = "on";
  app.add_option("--ack-coalesce", ack_coalesce,
                 "on: in-order data received in one batch gets one ACK at the end of the batch "
                 "(a stretch ACK, like Linux after GRO); off: an ACK every second segment")
      ->capture_default_str()->check(CLI::IsMember({"on", "off"}));
  app.add_flag("--nodelay", o.nodelay, "disable Nagle's algorithm (send small segments at once)");
  app.add_option("--min-rto", o.min_rto_ms, "minimum retransmission timeout in ms (RFC 6298; Linux 200)")
      ->capture_default_str()->check(CLI::Range(1u, 60000u));
  app.add_option("--challenge-ack-limit", o.challenge_ack_limit,
                 "RFC 5961 challenge ACKs (answers to in-window RSTs/SYNs and bad ACKs) per second "
                 "and connection; beyond it they are not sent (Linux tcp_challenge_ack_limit)")
      ->capture_default_str()->check(CLI::Range(1u, 1000000u));
  app.add_option("--time-wait", o.time_wait, "seconds a closed connection stays in TIME-WAIT (2*MSL)")
      ->capture_default_str()->check(CLI::Range(0.0, 600.0));
  app.add_flag("--keepalive", o.keepalive, "send keepalive probes on idle connections (RFC 1122 4.2.3.6)");
  app.add_option("--keepalive-idle", o.keepalive_idle, "seconds idle before the first keepalive probe")
      ->capture_default_str()->check(CLI::Range(1.0, 1e6));
  app.add_option("--keepalive-interval", o.keepalive_interval, "seconds between keepalive probes")
      ->capture_default_str()->check(CLI::Range(1.0, 1e6));
  app.add_option("--keepalive-count", o.keepalive_count, "unanswered probes before the connection is dropped")
      ->capture_default_str()->check(CLI::Range(1u, 1000u));
  app.add_flag("--no-timestamps", o.no_timestamps, "do not offer TCP timestamps (RFC 7323)");
  app.add_flag("--no-sack", o.no_sack, "do not offer SACK (RFC 2018)");
  app.add_flag("--no-wscale", o.no_wscale, "do not offer window scaling (RFC 7323)");
  std::string connect;
  app.add_option("--connect", connect,
                 "client mode: open one TCP connection to IP:PORT, send and/or receive, report, exit");
  app.add_option("--send-bytes", o.send_bytes, "client mode: bytes of a test pattern to send, then FIN")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 50));
  app.add_option("--send-file", o.send_file, "client mode: send this file's contents, then FIN")
      ->check(CLI::ExistingFile);
  app.add_flag("--receive", o.receive, "client mode: count the bytes the peer sends until it closes");

  auto fail = [&](const std::string& msg) -> std::optional<Options> {
    std::fprintf(stderr, "tuntcp: error: %s (see tuntcp --help)\n", msg.c_str());
    exit_code = 2;
    return std::nullopt;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return fail(e.what());
  }

  if (!parse_ipv4_addr(addr, o.addr)) return fail("--addr: '" + addr + "' is not an IPv4 address");
  if (host == "none" || o.attach) {
    o.host_prefix = 0;
    o.host_addr = 0;
  } else {
    auto slash = host.find('/');
    if (slash == std::string::npos) return fail("--host-addr: expected ADDRESS/PREFIX, got '" + host + "'");
    unsigned prefix = 0;
    std::string ptxt = host.substr(slash + 1);
    auto [p, ec] = std::from_chars(ptxt.data(), ptxt.data() + ptxt.size(), prefix);
    if (!parse_ipv4_addr(host.substr(0, slash), o.host_addr) || ec != std::errc() ||
        p != ptxt.data() + ptxt.size() || prefix < 1 || prefix > 30)
      return fail("--host-addr: expected ADDRESS/PREFIX with a prefix of 1 to 30, got '" + host + "'");
    o.host_prefix = static_cast<uint8_t>(prefix);
    const uint32_t mask = ~(~0u >> prefix);
    if (o.host_addr == o.addr) return fail("--host-addr and --addr must differ");
    if ((o.host_addr & mask) != (o.addr & mask))
      return fail("--addr " + format_ipv4_addr(o.addr) + " is outside --host-addr " + host +
                  ": the kernel would not route it to the TUN");
    // Below /31 the all-zeros and all-ones host parts are the subnet and broadcast addresses:
    // the kernel never sends unicast traffic for them into the TUN.
    if (prefix < 31 && ((o.addr & ~mask) == 0 || (o.addr & ~mask) == ~mask))
      return fail("--addr " + format_ipv4_addr(o.addr) + " is the network or broadcast address of " +
                  host);
    if (prefix < 31 && ((o.host_addr & ~mask) == 0 || (o.host_addr & ~mask) == ~mask))
      return fail("--host-addr " + host + " is a network or broadcast address");
  }
  if (proto::is_multicast(o.addr) || proto::is_loopback(o.addr) || o.addr == 0 || o.addr == ~0u)
    return fail("--addr must be a unicast address, got " + format_ipv4_addr(o.addr));
  if (!cpus.empty()) {
    std::string err = parse_cpu_list(cpus, o.cpus);
    if (!err.empty()) return fail("--cpus: " + err);
  }
  o.read_mode = read_mode == "single" ? ReadMode::kSingle : ReadMode::kMultishot;
  o.log_level = log_level == "error" ? LogLevel::kError
                : log_level == "warn" ? LogLevel::kWarn
                : log_level == "debug" ? LogLevel::kDebug
                                       : LogLevel::kInfo;
  if (o.workers == 0) o.workers = o.queues;
  if (!impair.empty() && (!impair_in.empty() || !impair_out.empty()))
    return fail("--impair sets both directions: give either it or --impair-in/--impair-out");
  if (!impair.empty()) impair_in = impair_out = impair;
  for (auto [flag, text, spec] : {std::tuple{"--impair-in", &impair_in, &o.impair_in},
                                  std::tuple{"--impair-out", &impair_out, &o.impair_out}}) {
    std::string err;
    if (!parse_impair_spec(*text, *spec, err))
      return fail(std::string(impair.empty() ? flag : "--impair") + ": " + err);
  }
  if (!o.stats_json.empty() && o.stats_interval <= 0)
    return fail("--stats-json needs --stats-interval N (the JSON lines are the interval reports)");
  o.offload = offload == "on";
  o.syncookies = syncookies == "off"      ? SynCookieMode::kOff
                 : syncookies == "always" ? SynCookieMode::kAlways
                                          : SynCookieMode::kOn;
  o.ack_coalesce = ack_coalesce == "on";
  o.cc = *proto::tcp::parse_cc(cc);  // checked above
  o.tx_zero_copy = tx_copy == "on";
  if (o.pool_buffers == 0) o.pool_buffers = std::max<uint32_t>(o.offload ? 2048 : 8192, 64 * (o.queues + o.workers));
  {
    std::string err;
    services::parse_service_list(o.services, err);
    if (!err.empty()) return fail("--services: " + err);
  }
  if (!connect.empty()) {
    auto colon = connect.rfind(':');
    unsigned port = 0;
    std::string ptxt = colon == std::string::npos ? "" : connect.substr(colon + 1);
    auto [p, ec] = std::from_chars(ptxt.data(), ptxt.data() + ptxt.size(), port);
    if (colon == std::string::npos || !parse_ipv4_addr(connect.substr(0, colon), o.connect_addr) ||
        ec != std::errc() || p != ptxt.data() + ptxt.size() || port == 0 || port > 65535)
      return fail("--connect: expected IPv4:PORT, got '" + connect + "'");
    o.connect_port = static_cast<uint16_t>(port);
    o.client = true;
    if (o.send_bytes == 0 && o.send_file.empty() && !o.receive)
      return fail("--connect needs --send-bytes N, --send-file FILE or --receive");
    if (o.send_bytes > 0 && !o.send_file.empty())
      return fail("--send-bytes and --send-file exclude each other");
  } else if (o.send_bytes > 0 || !o.send_file.empty() || o.receive) {
    return fail("--send-bytes, --send-file and --receive need --connect IP:PORT");
  }
  if (o.max_memory_mb > 0 && (o.max_memory_mb << 20) < uint64_t{o.rcvbuf} + o.sndbuf)
    return fail("--max-memory " + std::to_string(o.max_memory_mb) +
                " MiB is less than one connection's --rcvbuf + --sndbuf");
  if (o.pool_buffers < 64 * (o.queues + o.workers))
    return fail("--pool-buffers " + std::to_string(o.pool_buffers) + " is too small for " +
                std::to_string(o.queues + o.workers) + " threads: give at least 64 per thread");
  return o;
}

std::string describe(const Options& o) {
  std::ostringstream s;
  s << "dev=" << o.dev << " queues=" << o.queues << " workers=" << o.workers
    << " addr=" << format_ipv4_addr(o.addr) << " host-addr="
    << (o.host_prefix ? format_ipv4_addr(o.host_addr) + "/" + std::to_string(o.host_prefix) : "none")
    << " mtu=" << o.mtu << " pool-buffers=" << o.pool_buffers << " batch=" << o.batch
    << " offload=" << (o.offload ? "on" : "off") << " cc=" << proto::tcp::cc_name(o.cc)
    << " read-mode=" << (o.read_mode == ReadMode::kSingle ? "single" : "multishot")
    << " services=" << o.services;
  if (o.impair_in.active()) s << " impair-in=" << describe(o.impair_in);
  if (o.impair_out.active()) s << " impair-out=" << describe(o.impair_out);
  if (o.impair_in.active() || o.impair_out.active()) s << " impair-seed=" << o.impair_seed;
  return s.str();
}

}  // namespace tuntcp::engine
