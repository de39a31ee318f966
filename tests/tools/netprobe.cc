// tuntcp-netprobe: crafts IPv4 datagrams on the kernel side of a TUN device and sends them to
// tuntcp through an AF_PACKET socket, so they reach tuntcp byte for byte (a raw IP socket would
// have the kernel fix up checksums and lengths). Used by the integration tests, only ever inside
// the test's own network namespace.
//
//   tuntcp-netprobe inject DEV KIND COUNT       send COUNT malformed datagrams of KIND
//   tuntcp-netprobe unreachable DEV PROTO COUNT send COUNT datagrams of protocol PROTO and
//                                               print how many ICMP destination-unreachable
//                                               replies came back within a second
//   tuntcp-netprobe syn DEV PORT COUNT          send COUNT TCP SYNs to PORT from source ports
//                                               20000.. (use TT_SRC = an address nobody owns
//                                               so the SYN-ACKs go unanswered: half-open)
//   tuntcp-netprobe blind DEV KIND COUNT        RFC 5961 blind in-window attacks on a live
//                                               connection to port TT_DPORT (default 7): see
//                                               below
//   tuntcp-netprobe echo-client PORT IN OUT     send file IN to TT_DST:PORT in chunks of
//                                               TT_CHUNK bytes (32768), each echo read back
//                                               before a pause of TT_PAUSE_MS (50); the echoed
//                                               bytes go to file OUT. Prints "ok sent N
//                                               received M", or "reset|error|timeout ..." and
//                                               exits 1
// Addresses: from 198.18.0.1 to 198.18.0.2 unless TT_SRC / TT_DST are set.
//
// blind: start it before the client connects (it prints "ready" on stderr once it sniffs).
// It sniffs DEV (both directions: the kernel side of the TUN, IP at offset 0) for the first
// connection from TT_SRC to TT_DST:TT_DPORT, learns the 4-tuple, tuntcp's window scale (from
// the handshake), the kernel's SND.NXT (= tuntcp's RCV.NXT), tuntcp's SND.NXT and window and
// both sides' latest TSval. Once TT_AFTER bytes (65536) went from the client to tuntcp and the
// connection is quiet (tuntcp acknowledged everything, nothing on the wire for TT_QUIET_MS =
// 10 ms), it injects COUNT segments of KIND as if from the client (spoofed address and port;
// 1 ms pause after every 64 so that large bursts are not dropped at the TUN's queue):
//   rst-inwindow  RST, seq in (RCV.NXT, RCV.NXT + RCV.WND)  RFC 5961 3.2: challenge ACK
//                 (spread from RCV.NXT + 1 to the window's last byte)
//   rst-outwindow RST, seq RCV.NXT - 1 and further back,    RFC 9293 3.10.7.4: dropped silently
//                 or RCV.NXT + 2^30 and beyond
//   syn-inwindow  SYN, seq in (RCV.NXT, RCV.NXT + RCV.WND)  RFC 5961 4.2: challenge ACK
//   data-badack   64 bytes at RCV.NXT, ACK = SND.NXT + 2^30 RFC 5961 5.2: dropped, challenge ACK
//   data-oldack   64 bytes at RCV.NXT, ACK = SND.UNA - 2^30 RFC 5961 5.2: dropped, challenge ACK
//   ts-badack     data-badack plus a timestamp option whose TSval is 2^30 ahead of the client's:
//                 dropped, challenge ACK, and TS.Recent must not take that TSval (Linux updates
//                 it in tcp_ack() only after the ACK passed), or PAWS then drops every segment
//                 of the real client
//   rst-exact     RST, seq = RCV.NXT                        the connection is reset (control)
// Then it watches for 1 s and prints one line of "name value" pairs: kind, sent, rcv_nxt,
// snd_nxt, wnd, wscale, and what tuntcp sent to the client meanwhile:
//   challenge_acks  pure ACKs acknowledging exactly RCV.NXT (the connection was quiet:
//                   nothing else makes one)
//   resets          RSTs
//   acked_new       segments acknowledging client data sent after the injection (it lived on)
//   bogus_acked     segments acknowledging bytes the client never sent (injected data taken)
//   bogus_tsecr     segments echoing the injected TSval (ts-badack: TS.Recent took it)
// Exits 3 if no connection or no quiet moment showed up within TT_TIMEOUT seconds (20).
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proto/bytes.h"
#include "proto/checksum.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/tcp/wire.h"

using namespace tuntcp::proto;

namespace {

uint32_t env_addr(const char* name, const char* def) {
  const char* v = std::getenv(name);
  uint32_t a = 0;
  if (!parse_ipv4_addr(v ? v : def, a)) {
    std::fprintf(stderr, "netprobe: bad address in %s\n", name);
    std::exit(2);
  }
  return a;
}

// A valid echo request with `data_len` bytes of data.
std::vector<uint8_t> echo_request(uint32_t src, uint32_t dst, size_t data_len, uint16_t seq) {
  std::vector<uint8_t> p(kIpv4MinHeader + icmp::kHeaderLen + data_len);
  uint8_t* m = p.data() + kIpv4MinHeader;
  m[0] = icmp::kEchoRequest;
  m[1] = 0;
  store_be16(m + 4, 0x7474);
  store_be16(m + 6, seq);
  for (size_t i = 0; i < data_len; ++i) m[8 + i] = static_cast<uint8_t>(i);
  store_be16(m + 2, csum::checksum(m, icmp::kHeaderLen + data_len));
  Ipv4Repr r;
  r.src = src;
  r.dst = dst;
  r.protocol = ipproto::kIcmp;
  r.id = seq;
  r.payload_len = static_cast<uint16_t>(icmp::kHeaderLen + data_len);
  emit_ipv4(r, p.data());
  return p;
}

void fix_ip_checksum(std::vector<uint8_t>& p) {
  const size_t ihl = static_cast<size_t>(p[0] & 0xf) * 4;
  store_be16(p.data() + 10, 0);
  store_be16(p.data() + 10, csum::checksum(p.data(), std::min(ihl, p.size())));
}

// One malformed datagram of the named kind; empty if the kind is unknown.
std::vector<uint8_t> malformed(const std::string& kind, uint32_t src, uint32_t dst, uint16_t seq) {
  auto p = echo_request(src, dst, 32, seq);
  if (kind == "bad-checksum") {
    p[10] ^= 0x5a;  // header checksum no longer verifies
  } else if (kind == "bad-ihl") {
    p[0] = 0x44;  // IHL 4 (< 5)
    fix_ip_checksum(p);
  } else if (kind == "ihl-beyond-packet") {
    p.resize(24);
    p[0] = 0x4f;  // claims a 60-byte header in 24 bytes
  } else if (kind == "short-total-length") {
    store_be16(p.data() + 2, 10);  // total length < header length
    fix_ip_checksum(p);
  } else if (kind == "long-total-length") {
    store_be16(p.data() + 2, static_cast<uint16_t>(p.size() + 100));  // more than was sent
    fix_ip_checksum(p);
  } else if (kind == "truncated") {
    p.resize(12);
  } else if (kind == "bad-version") {
    p[0] = 0x55;
    fix_ip_checksum(p);
  } else if (kind == "fragment") {
    store_be16(p.data() + 6, 0x2000);  // MF
    fix_ip_checksum(p);
  } else if (kind == "bad-icmp-checksum") {
    p[kIpv4MinHeader + 2] ^= 0x11;
  } else if (kind == "bad-source") {
    store_be32(p.data() + 12, 0xe0000001);  // multicast source
    fix_ip_checksum(p);
  } else if (kind == "not-for-us") {
    store_be32(p.data() + 16, dst + 1);
    fix_ip_checksum(p);
  } else {
    p.clear();
  }
  return p;
}

int packet_socket(const char* dev, sockaddr_ll& to) {
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
  if (fd < 0) {
    std::perror("netprobe: socket(AF_PACKET)");
    std::exit(1);
  }
  to = sockaddr_ll{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = static_cast<int>(if_nametoindex(dev));
  if (to.sll_ifindex == 0) {
    std::fprintf(stderr, "netprobe: no device %s\n", dev);
    std::exit(1);
  }
  return fd;
}

void send_all(int fd, const sockaddr_ll& to, const std::vector<uint8_t>& p) {
  if (sendto(fd, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    std::perror("netprobe: sendto");
    std::exit(1);
  }
}

// ---- blind: RFC 5961 attacks on a live connection -------------------------------------------

double now_s() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double env_num(const char* name, double def) {
  const char* v = std::getenv(name);
  return v && *v ? std::atof(v) : def;
}

// Sequence-space helpers (RFC 9293 3.4): a is after b.
bool seq_after(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }
uint32_t seq_maxu(uint32_t a, uint32_t b) { return seq_after(a, b) ? a : b; }

// Injected datagrams carry this TTL (the kernel's own are sent with 64), so that the sniffer
// never takes one of them for the client's.
constexpr uint8_t kInjectTtl = 255;

// One sniffed TCP segment (headers only).
struct Sniffed {
  uint32_t src, dst;
  uint8_t ttl;
  uint16_t sport, dport;
  uint32_t seq, ack;
  uint8_t flags;
  uint16_t window;
  uint32_t plen;       // payload bytes (from the IP total length: super-packets included)
  int wscale = -1;     // the window-scale option of a SYN, -1 if none
  bool has_ts = false;
  uint32_t tsval = 0, tsecr = 0;
};

// Parses the first bytes of an IPv4/TCP datagram; false if it is something else.
bool parse_sniffed(const uint8_t* b, size_t caplen, Sniffed& s) {
  if (caplen < 20 || (b[0] >> 4) != 4) return false;
  const size_t ihl = static_cast<size_t>(b[0] & 0xf) * 4;
  if (ihl < 20 || b[9] != ipproto::kTcp || caplen < ihl + tcp::kHeaderMin) return false;
  const size_t tot = load_be16(b + 2);
  const uint8_t* t = b + ihl;
  const size_t thl = static_cast<size_t>(t[12] >> 4) * 4;
  if (thl < tcp::kHeaderMin || tot < ihl + thl) return false;
  s.src = load_be32(b + 12);
  s.dst = load_be32(b + 16);
  s.ttl = b[8];
  s.sport = load_be16(t);
  s.dport = load_be16(t + 2);
  s.seq = load_be32(t + 4);
  s.ack = load_be32(t + 8);
  s.flags = t[13];
  s.window = load_be16(t + 14);
  s.plen = static_cast<uint32_t>(tot - ihl - thl);
  s.wscale = -1;
  s.has_ts = false;
  tcp::TcpOptions o;
  if (caplen >= ihl + thl &&
      tcp::parse_options({t + tcp::kHeaderMin, thl - tcp::kHeaderMin}, o) == tcp::ParseError::kOk) {
    if ((s.flags & tcp::Flags::SYN) && o.wscale) s.wscale = std::min<int>(*o.wscale, 14);
    if (o.ts) {
      s.has_ts = true;
      s.tsval = o.ts->val;
      s.tsecr = o.ts->ecr;
    }
  }
  return true;
}

// What the sniffer knows of the connection.
struct Conn {
  bool known = false;      // 4-tuple learned
  bool handshake = false;  // the client's SYN was seen (so the window scale is known)
  uint32_t client = 0;
  uint16_t cport = 0;
  int client_ws = -1, server_ws = -1;
  uint32_t k_nxt = 0;      // the client's SND.NXT = tuntcp's RCV.NXT once it has everything
  uint32_t k_ack = 0;      // the client's latest ACK = tuntcp's SND.UNA
  uint32_t t_nxt = 0;      // tuntcp's SND.NXT
  uint32_t t_ack = 0;      // tuntcp's latest ACK
  bool have_k = false, have_t = false, have_t_ack = false, closing = false;
  uint32_t t_wnd = 0;      // tuntcp's window in bytes (scaled)
  uint64_t k_bytes = 0;    // payload bytes client -> tuntcp
  bool k_ts = false, t_ts = false;
  uint32_t k_tsval = 0;    // the client's latest TSval
  uint32_t t_tsval = 0;    // tuntcp's latest TSval
  double last_packet = 0;  // when the last segment of the connection (either way) was seen

  int shift() const { return client_ws >= 0 && server_ws >= 0 ? server_ws : 0; }
};

// A TCP segment from the client (spoofed) to tuntcp.
std::vector<uint8_t> forge(const Conn& c, uint32_t dst, uint16_t dport, uint32_t seq, uint32_t ack,
                           uint8_t flags, std::span<const uint8_t> payload, uint16_t id,
                           std::optional<tcp::Timestamps> ts = {}) {
  tcp::TcpRepr h;
  h.opt.ts = ts;
  h.src_port = c.cport;
  h.dst_port = dport;
  h.seq = tcp::Seq(seq);
  h.ack = tcp::Seq(ack);
  h.flags = flags;
  h.window = 502;
  std::vector<uint8_t> p(kIpv4MinHeader + tcp::header_len(h) + payload.size());
  const size_t thl = tcp::emit_header(h, {p.data() + kIpv4MinHeader, p.size() - kIpv4MinHeader},
                                      c.client, dst, payload);
  if (thl == 0) {
    std::fprintf(stderr, "netprobe: emit_header failed\n");
    std::exit(1);
  }
  if (!payload.empty()) std::memcpy(p.data() + kIpv4MinHeader + thl, payload.data(), payload.size());
  Ipv4Repr r;
  r.src = c.client;
  r.dst = dst;
  r.protocol = ipproto::kTcp;
  r.ttl = kInjectTtl;
  r.id = id;
  r.payload_len = static_cast<uint16_t>(thl + payload.size());
  emit_ipv4(r, p.data());
  return p;
}

int blind(const char* dev, const std::string& kind, int count, uint32_t src, uint32_t dst) {
  const bool known_kind = kind == "rst-inwindow" || kind == "rst-outwindow" || kind == "syn-inwindow" ||
                          kind == "data-badack" || kind == "data-oldack" || kind == "ts-badack" ||
                          kind == "rst-exact";
  if (!known_kind || count < 1) return -1;
  const uint16_t port = static_cast<uint16_t>(env_num("TT_DPORT", 7));
  const uint64_t after = static_cast<uint64_t>(env_num("TT_AFTER", 65536));
  const double quiet = env_num("TT_QUIET_MS", 10) / 1000.0;
  const double timeout = env_num("TT_TIMEOUT", 20);

  // One socket sniffs and sends: a packet socket never sees its own transmissions. ETH_P_ALL,
  // because only such taps see the kernel's outgoing packets; bound to DEV only.
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) {
    std::perror("netprobe: socket(AF_PACKET)");
    return 1;
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ALL);
  to.sll_ifindex = static_cast<int>(if_nametoindex(dev));
  if (to.sll_ifindex == 0) {
    std::fprintf(stderr, "netprobe: no device %s\n", dev);
    return 1;
  }
  // Keep only the first 256 bytes of each packet (the headers): 64 KB super-segments would
  // otherwise fill the receive buffer.
  sock_filter snap[] = {BPF_STMT(BPF_RET | BPF_K, 256)};
  sock_fprog prog{1, snap};
  int rcvbuf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0 ||
      bind(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    std::perror("netprobe: packet socket set-up");
    return 1;
  }
  to.sll_protocol = htons(ETH_P_IP);
  std::fprintf(stderr, "ready: sniffing %s for a connection to port %u\n", dev, port);
  std::fflush(stderr);

  Conn c;
  // Set once injected: the values the verdicts are judged against.
  bool injected = false;
  uint32_t rcv_nxt = 0, snd_nxt = 0;
  int challenge_acks = 0, resets = 0, acked_new = 0, bogus_acked = 0, bogus_tsecr = 0;
  uint32_t bogus_tsval = 0;  // ts-badack: the TSval injected
  const double start = now_s();
  double inject_time = 0;

  auto inject = [&] {
    rcv_nxt = c.k_nxt;
    snd_nxt = c.t_nxt;
    const uint32_t wnd = std::max<uint32_t>(c.t_wnd, 2);
    static const std::vector<uint8_t> junk(64, 'X');
    for (int i = 0; i < count; ++i) {
      // In the window but never RCV.NXT: spread from RCV.NXT + 1 to the last byte of the window.
      const uint32_t off = 1 + static_cast<uint32_t>(static_cast<uint64_t>(wnd - 2) * i / std::max(count - 1, 1));
      const auto id = static_cast<uint16_t>(0x5961 + i);
      std::vector<uint8_t> p;
      if (kind == "rst-inwindow") {
        p = forge(c, dst, port, rcv_nxt + off, 0, tcp::Flags::RST, {}, id);
      } else if (kind == "rst-outwindow") {
        // Alternately just behind the window (RCV.NXT - 1 first) and beyond the largest window
        // there can be (2^30; receive-buffer auto-tuning may open it past what was advertised).
        const uint32_t seq = i % 2 == 0 ? rcv_nxt - off : rcv_nxt + (1u << 30) + off;
        p = forge(c, dst, port, seq, 0, tcp::Flags::RST, {}, id);
      } else if (kind == "rst-exact") {
        p = forge(c, dst, port, rcv_nxt, 0, tcp::Flags::RST, {}, id);
      } else if (kind == "syn-inwindow") {
        p = forge(c, dst, port, rcv_nxt + off, 0, tcp::Flags::SYN, {}, id);
      } else if (kind == "data-badack") {
        p = forge(c, dst, port, rcv_nxt, snd_nxt + (1u << 30), tcp::Flags::ACK | tcp::Flags::PSH, junk, id);
      } else if (kind == "ts-badack") {
        if (!c.k_ts || !c.t_ts) {
          std::fprintf(stderr, "netprobe: ts-badack: the connection does not use timestamps\n");
          std::exit(1);
        }
        bogus_tsval = c.k_tsval + (1u << 30);
        p = forge(c, dst, port, rcv_nxt, snd_nxt + (1u << 30), tcp::Flags::ACK | tcp::Flags::PSH, junk, id,
                  tcp::Timestamps{bogus_tsval, c.t_tsval});
      } else {  // data-oldack
        p = forge(c, dst, port, rcv_nxt, c.k_ack - (1u << 30), tcp::Flags::ACK | tcp::Flags::PSH, junk, id);
      }
      send_all(fd, to, p);
      if (i % 64 == 63) {
        const timespec ms1{0, 1'000'000};
        nanosleep(&ms1, nullptr);
      }
    }
    injected = true;
    inject_time = now_s();
  };

  while (true) {
    const double t = now_s();
    if (injected && t - inject_time >= 1.0) break;
    if (!injected && t - start >= timeout) {
      std::fprintf(stderr,
                   "netprobe: no %s within %.0f s (client bytes %llu, k_nxt %u t_ack %u)\n",
                   c.known ? "quiet moment" : "connection", timeout,
                   static_cast<unsigned long long>(c.k_bytes), c.k_nxt, c.t_ack);
      return 3;
    }
    if (!injected && c.known && c.have_k && c.have_t_ack && !c.closing && c.k_bytes >= after &&
        c.t_ack == c.k_nxt && t - c.last_packet >= quiet) {
      inject();
      continue;
    }
    pollfd pfd{fd, POLLIN, 0};
    const int ms = injected ? static_cast<int>((inject_time + 1.0 - t) * 1000) + 1 : 2;
    if (poll(&pfd, 1, ms) <= 0) continue;
    uint8_t buf[256];
    sockaddr_ll from{};
    socklen_t fromlen = sizeof from;
    const ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromlen);
    if (n <= 0 || from.sll_ifindex != to.sll_ifindex) continue;
    Sniffed s;
    if (!parse_sniffed(buf, static_cast<size_t>(n), s)) continue;
    const bool to_server = s.dst == dst && s.dport == port && s.src == src;
    const bool from_server = s.src == dst && s.sport == port && s.dst == src;
    if (!to_server && !from_server) continue;
    if (to_server && s.ttl == kInjectTtl) continue;  // ours, looped back after all
    const bool syn = s.flags & tcp::Flags::SYN, fin = s.flags & tcp::Flags::FIN;
    const bool rst = s.flags & tcp::Flags::RST, ack = s.flags & tcp::Flags::ACK;
    if (to_server && syn && !ack && !injected) {
      // A (new) connection from the client: start over with it.
      c = Conn{};
      c.known = c.handshake = true;
      c.client = s.src;
      c.cport = s.sport;
      c.client_ws = s.wscale;
    } else if (!c.known) {
      if (!to_server || rst || fin) continue;
      // Joined mid-stream: the window scale is unknown, so the raw window is used (a lower bound).
      c.known = true;
      c.client = s.src;
      c.cport = s.sport;
      std::fprintf(stderr, "netprobe: joined mid-stream, window scale unknown\n");
    }
    if ((to_server ? s.sport : s.dport) != c.cport) continue;
    c.last_packet = now_s();
    const uint32_t end = s.seq + s.plen + (syn ? 1 : 0) + (fin ? 1 : 0);
    if (to_server) {
      c.k_nxt = c.have_k ? seq_maxu(c.k_nxt, end) : end;
      if (ack) c.k_ack = c.have_k ? seq_maxu(c.k_ack, s.ack) : s.ack;
      c.have_k = true;
      c.k_bytes += s.plen;
      if (s.has_ts) {
        c.k_tsval = c.k_ts ? seq_maxu(c.k_tsval, s.tsval) : s.tsval;
        c.k_ts = true;
      }
      if (fin || rst) c.closing = true;
      continue;
    }
    // From tuntcp.
    if (syn) c.server_ws = s.wscale;
    c.t_nxt = c.have_t ? seq_maxu(c.t_nxt, end) : end;
    c.have_t = true;
    if (s.has_ts) {
      c.t_tsval = c.t_ts ? seq_maxu(c.t_tsval, s.tsval) : s.tsval;
      c.t_ts = true;
    }
    if (ack) {
      c.t_ack = c.have_t_ack ? seq_maxu(c.t_ack, s.ack) : s.ack;
      c.have_t_ack = true;
      c.t_wnd = syn ? s.window : static_cast<uint32_t>(s.window) << c.shift();
    }
    if (fin || rst) c.closing = true;
    if (!injected) continue;
    if (rst) ++resets;
    if (bogus_tsval != 0 && s.has_ts && s.tsecr == bogus_tsval) ++bogus_tsecr;
    if (!ack || rst) continue;
    if (s.plen == 0 && !syn && !fin && s.ack == rcv_nxt) ++challenge_acks;
    if (seq_after(s.ack, c.k_nxt)) ++bogus_acked;           // beyond anything the client sent
    else if (seq_after(s.ack, rcv_nxt)) ++acked_new;        // the client's data after the attack
  }
  std::printf("kind %s sent %d rcv_nxt %u snd_nxt %u wnd %u wscale %d challenge_acks %d resets %d "
              "acked_new %d bogus_acked %d bogus_tsecr %d\n",
              kind.c_str(), count, rcv_nxt, snd_nxt, c.t_wnd, c.handshake ? c.shift() : -1,
              challenge_acks, resets, acked_new, bogus_acked, bogus_tsecr);
  return 0;
}

// ---- echo-client: a paced echo connection whose every byte is kept ----------------------------

int echo_client(uint32_t dst, uint16_t port, const char* in_path, const char* out_path) {
  const size_t chunk = static_cast<size_t>(env_num("TT_CHUNK", 32768));
  const double pause = env_num("TT_PAUSE_MS", 50) / 1000.0;
  FILE* in = std::fopen(in_path, "rb");
  FILE* out = std::fopen(out_path, "wb");
  if (!in || !out) {
    std::perror("netprobe: echo-client files");
    return 2;
  }
  std::vector<uint8_t> data;
  uint8_t tmp[65536];
  for (size_t n; (n = std::fread(tmp, 1, sizeof tmp, in)) > 0;) data.insert(data.end(), tmp, tmp + n);
  std::fclose(in);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};  // no echo for 5 s: give up
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(dst);
  size_t sent = 0, received = 0;
  auto fail = [&](const char* what, int err) {
    std::fflush(out);
    const bool reset = err == ECONNRESET || err == EPIPE;
    const bool timedout = err == EAGAIN || err == EWOULDBLOCK;
    std::printf("%s %s: %s sent %zu received %zu\n", reset ? "reset" : timedout ? "timeout" : "error",
                what, err ? std::strerror(err) : "unexpected end of stream", sent, received);
    return 1;
  };
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0) return fail("connect", errno);
  while (sent < data.size()) {
    const size_t len = std::min(chunk, data.size() - sent);
    for (size_t off = 0; off < len;) {
      const ssize_t n = send(fd, data.data() + sent + off, len - off, MSG_NOSIGNAL);
      if (n < 0) return fail("send", errno);
      off += static_cast<size_t>(n);
    }
    sent += len;
    while (received < sent) {
      const ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return fail("recv", n < 0 ? errno : 0);
      std::fwrite(tmp, 1, static_cast<size_t>(n), out);
      received += static_cast<size_t>(n);
    }
    const timespec ts{static_cast<time_t>(pause), static_cast<long>((pause - std::floor(pause)) * 1e9)};
    nanosleep(&ts, nullptr);
  }
  // Anything tuntcp sends beyond what was sent (bogus data echoed back) lands in OUT too.
  shutdown(fd, SHUT_WR);
  while (true) {
    const ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n == 0) break;
    if (n < 0) return fail("recv at the end", errno);
    std::fwrite(tmp, 1, static_cast<size_t>(n), out);
    received += static_cast<size_t>(n);
  }
  close(fd);
  std::fclose(out);
  std::printf("ok sent %zu received %zu\n", sent, received);
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: tuntcp-netprobe inject DEV KIND COUNT\n"
               "       tuntcp-netprobe unreachable DEV PROTO COUNT\n"
               "       tuntcp-netprobe syn DEV PORT COUNT\n"
               "       tuntcp-netprobe blind DEV ATTACK COUNT\n"
               "       tuntcp-netprobe echo-client PORT IN OUT\n"
               "KIND: bad-checksum bad-ihl ihl-beyond-packet short-total-length long-total-length\n"
               "      truncated bad-version fragment bad-icmp-checksum bad-source not-for-us\n"
               "ATTACK: rst-inwindow rst-outwindow syn-inwindow data-badack data-oldack ts-badack rst-exact\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return usage();
  const std::string cmd = argv[1];
  const char* dev = argv[2];
  const int count = std::atoi(argv[4]);
  const uint32_t src = env_addr("TT_SRC", "198.18.0.1");
  const uint32_t dst = env_addr("TT_DST", "198.18.0.2");
  sockaddr_ll to;
  if (cmd == "blind") {
    const int rc = blind(dev, argv[3], count, src, dst);
    return rc < 0 ? usage() : rc;
  }
  if (cmd == "echo-client") {
    return echo_client(dst, static_cast<uint16_t>(std::atoi(argv[2])), argv[3], argv[4]);
  }
  if (cmd == "inject") {
    int fd = packet_socket(dev, to);
    for (int i = 0; i < count; ++i) {
      auto p = malformed(argv[3], src, dst, static_cast<uint16_t>(i));
      if (p.empty()) return usage();
      send_all(fd, to, p);
    }
    std::printf("sent %d %s\n", count, argv[3]);
    return 0;
  }
  if (cmd == "syn") {
    const uint16_t port = static_cast<uint16_t>(std::atoi(argv[3]));
    int fd = packet_socket(dev, to);
    for (int i = 0; i < count; ++i) {
      std::vector<uint8_t> p(kIpv4MinHeader + 20, 0);
      Ipv4Repr r;
      r.src = src;
      r.dst = dst;
      r.protocol = ipproto::kTcp;
      r.id = static_cast<uint16_t>(i);
      r.payload_len = 20;
      emit_ipv4(r, p.data());
      uint8_t* t = p.data() + kIpv4MinHeader;
      store_be16(t, static_cast<uint16_t>(20000 + i));
      store_be16(t + 2, port);
      store_be32(t + 4, 0x01000000u + static_cast<uint32_t>(i) * 7919u);  // ISN
      t[12] = 5 << 4;
      t[13] = 0x02;  // SYN
      store_be16(t + 14, 64240);
      const uint32_t pseudo = csum::pseudo_header_sum_v4(src, dst, ipproto::kTcp, 20);
      store_be16(t + 16, csum::checksum(t, 20, pseudo));
      send_all(fd, to, p);
    }
    std::printf("sent %d SYNs\n", count);
    return 0;
  }
  if (cmd == "unreachable") {
    const int proto = std::atoi(argv[3]);
    int icmp_fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (icmp_fd < 0) {
      std::perror("netprobe: socket(IPPROTO_ICMP)");
      return 1;
    }
    int fd = packet_socket(dev, to);
    for (int i = 0; i < count; ++i) {
      std::vector<uint8_t> p(kIpv4MinHeader + 16, 0xab);
      Ipv4Repr r;
      r.src = src;
      r.dst = dst;
      r.protocol = static_cast<uint8_t>(proto);
      r.id = static_cast<uint16_t>(i);
      r.payload_len = 16;
      emit_ipv4(r, p.data());
      if (proto == ipproto::kUdp) {  // ports 40000 -> 9999, length 16, no checksum
        store_be16(p.data() + 20, 40000);
        store_be16(p.data() + 22, 9999);
        store_be16(p.data() + 24, 16);
        store_be16(p.data() + 26, 0);
      }
      send_all(fd, to, p);
    }
    int replies = 0, code = -1;
    timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (true) {
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      const long waited_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      if (waited_ms >= 1000) break;
      pollfd pfd{icmp_fd, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(1000 - waited_ms)) <= 0) break;
      uint8_t buf[2048];
      const ssize_t n = recv(icmp_fd, buf, sizeof buf, 0);
      if (n < 28) continue;
      const size_t ihl = static_cast<size_t>(buf[0] & 0xf) * 4;
      if (static_cast<size_t>(n) < ihl + 8 + 20) continue;
      const uint8_t* m = buf + ihl;
      // Count only errors about our own probes: the quoted header names our protocol.
      if (m[0] == icmp::kDestUnreachable && m[8 + 9] == proto && load_be32(buf + 12) == dst) {
        ++replies;
        code = m[1];
        if (csum::ones_sum(m, static_cast<size_t>(n) - ihl) != 0xffff) {
          std::fprintf(stderr, "netprobe: reply with a bad ICMP checksum\n");
          return 1;
        }
      }
    }
    std::printf("replies %d code %d\n", replies, code);
    return 0;
  }
  return usage();
}
