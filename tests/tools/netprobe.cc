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
// Addresses: from 198.18.0.1 to 198.18.0.2 unless TT_SRC / TT_DST are set.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "proto/bytes.h"
#include "proto/checksum.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"

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

int usage() {
  std::fprintf(stderr,
               "usage: tuntcp-netprobe inject DEV KIND COUNT\n"
               "       tuntcp-netprobe unreachable DEV PROTO COUNT\n"
               "       tuntcp-netprobe syn DEV PORT COUNT\n"
               "KIND: bad-checksum bad-ihl ihl-beyond-packet short-total-length long-total-length\n"
               "      truncated bad-version fragment bad-icmp-checksum bad-source not-for-us\n");
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
