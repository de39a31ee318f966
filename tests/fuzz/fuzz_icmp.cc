// Fuzzes the ICMP path of a worker: parse_ipv4 -> parse_icmp -> an echo reply built in place
// in the request's own buffer, and destination-unreachable errors quoting the datagram. Every
// packet tuntcp sends must carry correct checksums (RFC 1071: the covered bytes, checksum
// included, sum to 0xffff), and an echo reply must return the request's data unchanged
// (RFC 1122 3.2.2.6).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "proto/bytes.h"
#include "proto/checksum.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "tests/fuzz/fuzz_check.h"

using namespace tuntcp::proto;

namespace {

// Independent of proto/checksum's dispatch: the byte-wise RFC 1071 reference.
bool sums_ok(const uint8_t* p, size_t n) { return csum::ones_sum_reference(p, n) == 0xffff; }

void check_echo_reply(std::span<const uint8_t> request, const Ipv4View& ip) {
  // The engine builds the reply in the very buffer the request arrived in: do the same on a
  // copy of exactly the datagram's size, so ASan sees any write past its end.
  std::vector<uint8_t> buf(request.begin(), request.end());
  Ipv4View v = parse_ipv4(buf, ip.dst).view;  // the same view, over the copy
  const size_t msg_len = ip.total_len - ip.header_len;
  const uint8_t* req_msg = request.data() + ip.header_len;
  size_t len = icmp::make_echo_reply_in_place(buf.data(), v, 0x1234);
  FUZZ_CHECK(len == kIpv4MinHeader + msg_len, "reply length %zu for a message of %zu", len,
             msg_len);
  const uint8_t* h = buf.data();
  FUZZ_CHECK(sums_ok(h, kIpv4MinHeader), "echo reply: bad IP header checksum");
  FUZZ_CHECK(h[0] == 0x45 && load_be16(h + 2) == len && h[9] == ipproto::kIcmp, "reply IP header");
  FUZZ_CHECK(load_be32(h + 12) == ip.dst && load_be32(h + 16) == ip.src, "addresses not swapped");
  const uint8_t* msg = h + kIpv4MinHeader;
  FUZZ_CHECK(msg[0] == icmp::kEchoReply && msg[1] == req_msg[1], "reply type/code");
  FUZZ_CHECK(std::memcmp(msg + 4, req_msg + 4, msg_len - 4) == 0,
             "identifier, sequence number or data changed");
  FUZZ_CHECK(sums_ok(msg, msg_len), "echo reply: bad ICMP checksum 0x%04x (request had 0x%04x)",
             load_be16(msg + 2), load_be16(req_msg + 2));
}

void check_dest_unreachable(const Ipv4View& ip) {
  constexpr uint32_t kOurs = 0xc6120002;
  uint8_t out[icmp::kMaxErrorDatagram + 64];
  std::memset(out, 0xa5, sizeof(out));
  size_t len = icmp::build_dest_unreachable(out, icmp::kMaxErrorDatagram, kOurs, ip,
                                            icmp::kCodePortUnreachable, 7);
  // 576 bytes always fit the header plus 8 bytes of any datagram (60 + 8 + 28 < 576).
  FUZZ_CHECK(len > 0, "no error for a %u-byte datagram", ip.total_len);
  size_t quote = std::min<size_t>(ip.total_len, icmp::kMaxErrorDatagram - 28);
  FUZZ_CHECK(len == 28 + quote && len <= icmp::kMaxErrorDatagram, "error length %zu", len);
  FUZZ_CHECK(out[len] == 0xa5, "wrote past the returned length");
  FUZZ_CHECK(sums_ok(out, kIpv4MinHeader), "error: bad IP header checksum");
  FUZZ_CHECK(
      load_be16(out + 2) == len && load_be32(out + 12) == kOurs && load_be32(out + 16) == ip.src,
      "error IP header");
  FUZZ_CHECK(sums_ok(out + kIpv4MinHeader, len - kIpv4MinHeader), "error: bad ICMP checksum");
  FUZZ_CHECK(out[20] == icmp::kDestUnreachable && out[21] == icmp::kCodePortUnreachable, "type");
  FUZZ_CHECK(std::memcmp(out + 28, ip.header, quote) == 0, "quote differs from the datagram");

  // The smallest buffer the contract allows (28 + header + 8) must work; one byte less must not.
  size_t min_cap = 28 + std::min<size_t>(ip.header_len + 8u, ip.total_len);
  FUZZ_CHECK(icmp::build_dest_unreachable(out, min_cap, kOurs, ip, 3, 7) == min_cap,
             "error at the minimum capacity %zu", min_cap);
  FUZZ_CHECK(sums_ok(out + kIpv4MinHeader, min_cap - kIpv4MinHeader), "short error: ICMP checksum");
  FUZZ_CHECK(icmp::build_dest_unreachable(out, min_cap - 1, kOurs, ip, 3, 7) == 0,
             "error built into too small a buffer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 20) return 0;
  std::span<const uint8_t> pkt(data, size);
  // Our address is whatever the datagram is sent to: the fuzzer need not discover it.
  Ipv4ParseResult r = parse_ipv4(pkt, load_be32(data + 16));
  if (!r.ok()) return 0;
  check_dest_unreachable(r.view);  // e.g. protocol unreachable: any accepted datagram
  if (r.view.protocol != ipproto::kIcmp) return 0;
  icmp::IcmpParseResult m = icmp::parse_icmp(r.view);
  if (!m.ok()) {
    FUZZ_CHECK(m.drop == icmp::IcmpDrop::kBadChecksum || r.view.total_len - r.view.header_len < 8,
               "drop reason %s", std::string(icmp::to_string(m.drop)).c_str());
    return 0;
  }
  FUZZ_CHECK(sums_ok(r.view.payload().data(), r.view.payload().size()),
             "bad ICMP checksum accepted");
  if (m.type == icmp::kEchoRequest) check_echo_reply(pkt, r.view);
  return 0;
}
