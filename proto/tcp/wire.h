// The TCP header on the wire (RFC 9293 3.1) and its options (RFC 9293 3.2, RFC 7323, RFC 2018).
//
// Two representations, in the style of smoltcp's wire::tcp:
//  * TcpView: a zero-copy view over header bytes with checked construction and plain accessors.
//  * TcpRepr: a plain struct with every field and parsed option, parsed from a view and emitted
//    into bytes. parse() and emit_header() are the one place TCP headers are read and written.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "proto/tcp/seq.h"

namespace tuntcp::proto::tcp {

struct Flags {
  static constexpr uint8_t FIN = 0x01;
  static constexpr uint8_t SYN = 0x02;
  static constexpr uint8_t RST = 0x04;
  static constexpr uint8_t PSH = 0x08;
  static constexpr uint8_t ACK = 0x10;
  static constexpr uint8_t URG = 0x20;
  static constexpr uint8_t ECE = 0x40;
  static constexpr uint8_t CWR = 0x80;
};

constexpr size_t kHeaderMin = 20;
constexpr size_t kHeaderMax = 60;
constexpr size_t kMaxSackBlocks = 4;  // 4 * 8 + 2 = 34 bytes fit the 40 bytes of option space

// Option kinds (IANA "TCP Option Kind Numbers").
struct OptionKind {
  static constexpr uint8_t kEnd = 0;
  static constexpr uint8_t kNop = 1;
  static constexpr uint8_t kMss = 2;
  static constexpr uint8_t kWindowScale = 3;
  static constexpr uint8_t kSackPermitted = 4;
  static constexpr uint8_t kSack = 5;
  static constexpr uint8_t kTimestamps = 8;
};

struct SackBlock {
  Seq left;   // first sequence number of the block
  Seq right;  // sequence number just after the block
  friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

struct Timestamps {
  uint32_t val = 0;
  uint32_t ecr = 0;
  friend bool operator==(const Timestamps&, const Timestamps&) = default;
};

struct TcpOptions {
  std::optional<uint16_t> mss;     // RFC 9293 3.7.1
  std::optional<uint8_t> wscale;   // RFC 7323 2 (shift count as sent; receivers clamp to 14)
  bool sack_permitted = false;     // RFC 2018 2
  std::optional<Timestamps> ts;    // RFC 7323 3
  uint8_t sack_count = 0;          // RFC 2018 3
  std::array<SackBlock, kMaxSackBlocks> sack{};

  friend bool operator==(const TcpOptions& a, const TcpOptions& b) {
    if (a.mss != b.mss || a.wscale != b.wscale || a.sack_permitted != b.sack_permitted ||
        a.ts != b.ts || a.sack_count != b.sack_count)
      return false;
    for (size_t i = 0; i < a.sack_count; ++i)
      if (!(a.sack[i] == b.sack[i])) return false;
    return true;
  }
};

struct TcpRepr {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  Seq seq;
  Seq ack;
  uint8_t flags = 0;
  uint16_t window = 0;  // the raw 16-bit field (scaled by the receiver of the segment)
  uint16_t urgent = 0;
  TcpOptions opt;

  bool has(uint8_t f) const { return (flags & f) != 0; }
  // SEG.LEN: payload plus one for each of SYN and FIN (RFC 9293 3.4).
  uint32_t seg_len(size_t payload_len) const {
    return static_cast<uint32_t>(payload_len) + (has(Flags::SYN) ? 1 : 0) + (has(Flags::FIN) ? 1 : 0);
  }
  friend bool operator==(const TcpRepr&, const TcpRepr&) = default;
};

enum class ParseError : uint8_t {
  kOk,
  kTruncated,      // fewer than 20 bytes
  kBadDataOffset,  // data offset < 5 words or beyond the segment
  kBadOption,      // option list malformed (length < 2, overruns the header, wrong fixed length)
};

// Zero-copy view over the bytes of one TCP segment (header + payload). Construct with make().
class TcpView {
 public:
  // Checks the fixed header and the data offset; options are checked by parse().
  static std::optional<TcpView> make(std::span<const uint8_t> segment);

  uint16_t src_port() const;
  uint16_t dst_port() const;
  uint32_t seq() const;
  uint32_t ack() const;
  size_t header_len() const { return static_cast<size_t>(bytes_[12] >> 4) * 4; }
  uint8_t flags() const { return bytes_[13]; }
  uint16_t window() const;
  uint16_t checksum() const;
  uint16_t urgent() const;
  std::span<const uint8_t> options() const { return bytes_.subspan(kHeaderMin, header_len() - kHeaderMin); }
  std::span<const uint8_t> payload() const { return bytes_.subspan(header_len()); }

 private:
  explicit TcpView(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// Parses the option bytes of a header. Unknown options are skipped; EOL ends the list.
ParseError parse_options(std::span<const uint8_t> options, TcpOptions& out);
// Parses a whole segment into `out` and sets `payload` to the bytes after the header.
// The checksum is not checked here (see verify_checksum; offloaded packets may skip it).
ParseError parse(std::span<const uint8_t> segment, TcpRepr& out, std::span<const uint8_t>* payload);

// Bytes the options of `r` take when emitted (a multiple of 4, at most 40).
size_t options_len(const TcpOptions& o);
inline size_t header_len(const TcpRepr& r) { return kHeaderMin + options_len(r.opt); }

// Writes the header of `r` (options included) into `out` and fills the checksum computed over
// the IPv4 pseudo-header, the header and the payload (payload_a then payload_b; the payload is
// not copied). Returns the header length, or 0 if `out` is too small or the options do not fit.
size_t emit_header(const TcpRepr& r, std::span<uint8_t> out, uint32_t src_ip, uint32_t dst_ip,
                   std::span<const uint8_t> payload_a = {}, std::span<const uint8_t> payload_b = {});

// True if the checksum of `segment` (header + payload) is correct for these addresses.
bool verify_checksum(std::span<const uint8_t> segment, uint32_t src_ip, uint32_t dst_ip);

}  // namespace tuntcp::proto::tcp
