#include "proto/tcp/wire.h"

#include "proto/bytes.h"
#include "proto/checksum.h"

namespace tuntcp::proto::tcp {

namespace {
constexpr uint8_t kIpProtoTcp = 6;
}

std::optional<TcpView> TcpView::make(std::span<const uint8_t> segment) {
  if (segment.size() < kHeaderMin) return std::nullopt;
  size_t hl = static_cast<size_t>(segment[12] >> 4) * 4;
  if (hl < kHeaderMin || hl > segment.size()) return std::nullopt;
  return TcpView(segment);
}

uint16_t TcpView::src_port() const { return load_be16(bytes_.data()); }
uint16_t TcpView::dst_port() const { return load_be16(bytes_.data() + 2); }
uint32_t TcpView::seq() const { return load_be32(bytes_.data() + 4); }
uint32_t TcpView::ack() const { return load_be32(bytes_.data() + 8); }
uint16_t TcpView::window() const { return load_be16(bytes_.data() + 14); }
uint16_t TcpView::checksum() const { return load_be16(bytes_.data() + 16); }
uint16_t TcpView::urgent() const { return load_be16(bytes_.data() + 18); }

// RFC 9293 3.2: kinds 0 and 1 are single bytes, every other option is kind, length, data.
ParseError parse_options(std::span<const uint8_t> o, TcpOptions& out) {
  out = TcpOptions{};
  size_t i = 0;
  while (i < o.size()) {
    uint8_t kind = o[i];
    if (kind == OptionKind::kEnd) break;
    if (kind == OptionKind::kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= o.size()) return ParseError::kBadOption;
    uint8_t len = o[i + 1];
    if (len < 2 || i + len > o.size()) return ParseError::kBadOption;
    const uint8_t* d = o.data() + i + 2;
    switch (kind) {
      case OptionKind::kMss:
        if (len != 4) return ParseError::kBadOption;
        out.mss = load_be16(d);
        break;
      case OptionKind::kWindowScale:
        if (len != 3) return ParseError::kBadOption;
        out.wscale = d[0];
        break;
      case OptionKind::kSackPermitted:
        if (len != 2) return ParseError::kBadOption;
        out.sack_permitted = true;
        break;
      case OptionKind::kTimestamps:
        if (len != 10) return ParseError::kBadOption;
        out.ts = Timestamps{load_be32(d), load_be32(d + 4)};
        break;
      case OptionKind::kSack: {
        if (len < 10 || (len - 2) % 8 != 0) return ParseError::kBadOption;
        size_t n = (len - 2u) / 8u;
        if (n > kMaxSackBlocks) return ParseError::kBadOption;
        out.sack_count = static_cast<uint8_t>(n);
        for (size_t b = 0; b < n; ++b)
          out.sack[b] = SackBlock{Seq(load_be32(d + 8 * b)), Seq(load_be32(d + 8 * b + 4))};
        break;
      }
      default:
        break;  // unknown option: skipped by its length
    }
    i += len;
  }
  return ParseError::kOk;
}

ParseError parse(std::span<const uint8_t> segment, TcpRepr& out, std::span<const uint8_t>* payload) {
  if (segment.size() < kHeaderMin) return ParseError::kTruncated;
  auto v = TcpView::make(segment);
  if (!v) return ParseError::kBadDataOffset;
  out.src_port = v->src_port();
  out.dst_port = v->dst_port();
  out.seq = Seq(v->seq());
  out.ack = Seq(v->ack());
  out.flags = v->flags();
  out.window = v->window();
  out.urgent = v->urgent();
  ParseError e = parse_options(v->options(), out.opt);
  if (e != ParseError::kOk) return e;
  if (payload) *payload = v->payload();
  return ParseError::kOk;
}

// Layout follows Linux tcp_options_write(): MSS; SACK-permitted + timestamps packed together
// (or NOP,NOP before whichever is alone); NOP + window scale; NOP,NOP + SACK blocks.
size_t options_len(const TcpOptions& o) {
  size_t n = 0;
  if (o.mss) n += 4;
  if (o.ts)
    n += 12;  // (NOP NOP | SACKP) + TS
  else if (o.sack_permitted)
    n += 4;
  if (o.wscale) n += 4;
  if (o.sack_count) n += 4 + 8 * static_cast<size_t>(o.sack_count);
  return n;
}

namespace {

size_t write_options(const TcpOptions& o, uint8_t* p) {
  uint8_t* start = p;
  if (o.mss) {
    p[0] = OptionKind::kMss;
    p[1] = 4;
    store_be16(p + 2, *o.mss);
    p += 4;
  }
  if (o.ts) {
    if (o.sack_permitted) {
      p[0] = OptionKind::kSackPermitted;
      p[1] = 2;
    } else {
      p[0] = OptionKind::kNop;
      p[1] = OptionKind::kNop;
    }
    p[2] = OptionKind::kTimestamps;
    p[3] = 10;
    store_be32(p + 4, o.ts->val);
    store_be32(p + 8, o.ts->ecr);
    p += 12;
  } else if (o.sack_permitted) {
    p[0] = OptionKind::kNop;
    p[1] = OptionKind::kNop;
    p[2] = OptionKind::kSackPermitted;
    p[3] = 2;
    p += 4;
  }
  if (o.wscale) {
    p[0] = OptionKind::kNop;
    p[1] = OptionKind::kWindowScale;
    p[2] = 3;
    p[3] = *o.wscale;
    p += 4;
  }
  if (o.sack_count) {
    p[0] = OptionKind::kNop;
    p[1] = OptionKind::kNop;
    p[2] = OptionKind::kSack;
    p[3] = static_cast<uint8_t>(2 + 8 * o.sack_count);
    p += 4;
    for (size_t b = 0; b < o.sack_count; ++b) {
      store_be32(p, o.sack[b].left.raw());
      store_be32(p + 4, o.sack[b].right.raw());
      p += 8;
    }
  }
  return static_cast<size_t>(p - start);
}

// Adds the sum of `piece` to `sum`, where `piece` starts at byte offset `offset` of the summed
// data: a piece at an odd offset contributes its sum byte-swapped (RFC 1071 2(B)).
uint32_t add_piece(uint32_t sum, std::span<const uint8_t> piece, size_t offset) {
  if (piece.empty()) return sum;
  uint16_t s = csum::ones_sum(piece.data(), piece.size(), 0);
  if (offset & 1) s = static_cast<uint16_t>(s << 8 | s >> 8);
  return csum::fold(static_cast<uint64_t>(sum) + s);
}

}  // namespace

size_t emit_header(const TcpRepr& r, std::span<uint8_t> out, uint32_t src_ip, uint32_t dst_ip,
                   std::span<const uint8_t> payload_a, std::span<const uint8_t> payload_b) {
  size_t ol = options_len(r.opt);
  if (ol > kHeaderMax - kHeaderMin || r.opt.sack_count > kMaxSackBlocks) return 0;
  size_t hl = kHeaderMin + ol;
  if (out.size() < hl) return 0;
  uint8_t* p = out.data();
  store_be16(p, r.src_port);
  store_be16(p + 2, r.dst_port);
  store_be32(p + 4, r.seq.raw());
  store_be32(p + 8, r.ack.raw());
  p[12] = static_cast<uint8_t>((hl / 4) << 4);
  p[13] = r.flags;
  store_be16(p + 14, r.window);
  store_be16(p + 16, 0);
  store_be16(p + 18, r.urgent);
  write_options(r.opt, p + kHeaderMin);
  size_t total = hl + payload_a.size() + payload_b.size();
  // RFC 9293 3.1: the checksum covers the pseudo-header, the header and the payload.
  uint32_t sum = csum::pseudo_header_sum_v4(src_ip, dst_ip, kIpProtoTcp, static_cast<uint16_t>(total));
  sum = add_piece(sum, std::span<const uint8_t>(p, hl), 0);
  sum = add_piece(sum, payload_a, hl);
  sum = add_piece(sum, payload_b, hl + payload_a.size());
  store_be16(p + 16, static_cast<uint16_t>(~sum));
  return hl;
}

bool verify_checksum(std::span<const uint8_t> segment, uint32_t src_ip, uint32_t dst_ip) {
  if (segment.size() > 0xffff) return false;
  uint32_t seed =
      csum::pseudo_header_sum_v4(src_ip, dst_ip, kIpProtoTcp, static_cast<uint16_t>(segment.size()));
  return csum::ones_sum(segment.data(), segment.size(), seed) == 0xffff;
}

}  // namespace tuntcp::proto::tcp
