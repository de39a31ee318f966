// Fuzzes proto::parse_ipv4 and proto::flow_key_of_received: the first code that touches every
// byte read from the TUN. Neither may read outside the datagram (ASan), and whatever
// parse_ipv4 accepts must really satisfy what the rest of the engine assumes of an Ipv4View.
#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/bytes.h"
#include "proto/checksum.h"
#include "proto/flow.h"
#include "proto/ipv4.h"
#include "tests/fuzz/fuzz_check.h"

using namespace tuntcp::proto;

namespace {

constexpr uint32_t kLocal = 0xc6120002;  // 198.18.0.2, tuntcp's default address

void check_accepted(std::span<const uint8_t> pkt, const Ipv4View& v, uint32_t local) {
  FUZZ_CHECK(v.header == pkt.data(), "the view must point at the datagram");
  FUZZ_CHECK(v.header_len >= kIpv4MinHeader && v.header_len <= kIpv4MaxHeader &&
                 v.header_len == (pkt[0] & 0x0f) * 4,
             "header_len %u", v.header_len);
  FUZZ_CHECK(v.header_len <= v.total_len && v.total_len <= pkt.size(),
             "header_len %u total_len %u size %zu", v.header_len, v.total_len, pkt.size());
  auto payload = v.payload();
  FUZZ_CHECK(payload.data() == pkt.data() + v.header_len &&
                 payload.data() + payload.size() <= pkt.data() + pkt.size(),
             "payload outside the datagram");
  // Everything the view reports is what the header says, and the header was really valid.
  FUZZ_CHECK(v.protocol == pkt[9] && v.ttl == pkt[8] && v.id == load_be16(&pkt[4]), "fields");
  FUZZ_CHECK(v.src == load_be32(&pkt[12]) && v.dst == local, "addresses");
  FUZZ_CHECK(csum::ones_sum_reference(pkt.data(), v.header_len) == 0xffff, "bad checksum accepted");
  FUZZ_CHECK(!is_multicast(v.src) && !is_limited_broadcast(v.src) && !is_loopback(v.src) &&
                 !is_unspecified(v.src),
             "bad source accepted");
  FUZZ_CHECK((load_be16(&pkt[6]) & 0x3fff) == 0, "fragment accepted");

  // The reader's flow key must agree with the validated view (same flow, same worker).
  FlowKey k = flow_key_of_received(pkt);
  FUZZ_CHECK(k.remote_addr == v.src && k.local_addr == v.dst, "flow key addresses");
  const bool ports = (v.protocol == ipproto::kTcp || v.protocol == ipproto::kUdp) &&
                     pkt.size() >= v.header_len + 4u;
  if (ports) {
    FUZZ_CHECK(k.protocol == v.protocol && k.remote_port == load_be16(pkt.data() + v.header_len) &&
                   k.local_port == load_be16(pkt.data() + v.header_len + 2),
               "flow key ports");
  } else {
    FUZZ_CHECK(k.protocol == 0 && k.remote_port == 0 && k.local_port == 0, "portless flow key");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> pkt(data, size);
  // Any bytes at all: the key is computed before validation, so it must cope with anything.
  FlowKey any = flow_key_of_received(pkt);
  FUZZ_CHECK(pick_shard(flow_hash(any), 7) < 7, "shard out of range");

  // Twice: with tuntcp's fixed address (the fuzzer must find it: realistic drops), and with the
  // datagram's own destination, so the checks after kNotForUs are reached without that search.
  uint32_t locals[2] = {kLocal, size >= 20 ? load_be32(data + 16) : 0};
  for (uint32_t local : locals) {
    Ipv4ParseResult r = parse_ipv4(pkt, local);
    FUZZ_CHECK(to_string(r.drop) != "?", "drop reason without a name");
    if (r.ok()) check_accepted(pkt, r.view, local);
  }
  return 0;
}
