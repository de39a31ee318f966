// Fuzzes the TCP header codec (proto/tcp/wire.h): tcp::parse on arbitrary segments, and for
// every accepted one emit_header(parse(x)) parsed again must give back the same TcpRepr, all
// fields and options, with a verifying checksum. Also the stateless RST replies built from
// whatever parse accepted (the engine sends those for any segment to a closed port).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "proto/bytes.h"
#include "proto/tcp/rst.h"
#include "proto/tcp/wire.h"
#include "tests/fuzz/fuzz_check.h"

using namespace tuntcp::proto;
using namespace tuntcp::proto::tcp;

namespace {

constexpr uint32_t kSrc = 0xc6120001, kDst = 0xc6120002;

// The options as the raw bytes wrote them need not fit in 40 bytes once emitted in the canonical
// (Linux) layout: e.g. TS(10) + 3 SACK blocks(26) + WS(3) = 39 bytes read, 44 written. Only then
// may emit_header refuse.
bool emittable(const TcpRepr& r) { return options_len(r.opt) <= kHeaderMax - kHeaderMin; }

void round_trip(const TcpRepr& r, std::span<const uint8_t> payload) {
  std::vector<uint8_t> buf(kHeaderMax + payload.size());
  size_t hl = emit_header(r, std::span<uint8_t>(buf.data(), kHeaderMax), kSrc, kDst, payload);
  if (!emittable(r)) {
    FUZZ_CHECK(hl == 0, "emitted %zu bytes of options", options_len(r.opt));
    return;
  }
  FUZZ_CHECK(hl == header_len(r) && hl % 4 == 0, "header length %zu, expected %zu", hl,
             header_len(r));
  if (!payload.empty()) std::memcpy(buf.data() + hl, payload.data(), payload.size());
  std::span<const uint8_t> seg(buf.data(), hl + payload.size());
  if (seg.size() <= 0xffff)
    FUZZ_CHECK(verify_checksum(seg, kSrc, kDst), "emitted checksum is wrong");
  TcpRepr back;
  std::span<const uint8_t> back_payload;
  FUZZ_CHECK(parse(seg, back, &back_payload) == ParseError::kOk, "emitted header does not parse");
  FUZZ_CHECK(back == r,
             "TcpRepr does not round-trip (seq %u/%u ack %u/%u flags %x/%x win %u/%u "
             "mss %d/%d ws %d/%d sackp %d/%d ts %d/%d sacks %u/%u)",
             r.seq.raw(), back.seq.raw(), r.ack.raw(), back.ack.raw(), r.flags, back.flags,
             r.window, back.window, r.opt.mss ? *r.opt.mss : -1, back.opt.mss ? *back.opt.mss : -1,
             r.opt.wscale ? *r.opt.wscale : -1, back.opt.wscale ? *back.opt.wscale : -1,
             r.opt.sack_permitted, back.opt.sack_permitted, r.opt.ts.has_value(),
             back.opt.ts.has_value(), r.opt.sack_count, back.opt.sack_count);
  FUZZ_CHECK(back_payload.size() == payload.size() &&
                 (payload.empty() ||
                  std::memcmp(back_payload.data(), payload.data(), payload.size()) == 0),
             "payload changed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> seg(data, size);
  TcpRepr r;
  std::span<const uint8_t> payload;
  ParseError e = parse(seg, r, &payload);
  // verify_checksum reads any length; it must never read outside the segment.
  (void)verify_checksum(seg, kSrc, kDst);
  if (e != ParseError::kOk) return 0;

  FUZZ_CHECK(size >= kHeaderMin, "accepted %zu bytes", size);
  const size_t hl = static_cast<size_t>(data[12] >> 4) * 4;
  FUZZ_CHECK(payload.data() == data + hl && hl + payload.size() == size, "payload bounds");
  FUZZ_CHECK(r.opt.sack_count <= kMaxSackBlocks, "sack_count %u", r.opt.sack_count);
  FUZZ_CHECK(r.src_port == load_be16(data) && r.seq.raw() == load_be32(data + 4) &&
                 r.flags == data[13] && r.window == load_be16(data + 14),
             "fixed fields");
  round_trip(r, payload);

  // What the engine answers for this segment when no connection or listener takes it.
  if (auto rst = reset_for_closed(r, payload.size())) {
    FUZZ_CHECK(!r.has(Flags::RST) && rst->has(Flags::RST), "RST for a RST, or no RST flag");
    FUZZ_CHECK(rst->src_port == r.dst_port && rst->dst_port == r.src_port, "ports not swapped");
    round_trip(*rst, {});
  } else {
    FUZZ_CHECK(r.has(Flags::RST), "no reply to a non-RST segment");
  }
  if (auto rst = reset_for_listen(r)) {
    FUZZ_CHECK(r.has(Flags::ACK) && !r.has(Flags::RST) && rst->seq == r.ack, "listen RST");
    round_trip(*rst, {});
  }
  return 0;
}
