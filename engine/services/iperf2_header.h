// The test header an iperf 2 client (2.0.x, 2.1.x) writes at the start of each TCP stream
// (include/payloads.h: client_hdr_v1, then client_hdrext when HEADER_EXTEND is set), all
// fields big-endian:
//
//   0x00 flags      HEADER_VERSION1: -d/-r (the server connects back to the client's port),
//                   RUN_NOW: -d (at once) rather than -r (after the client's stream);
//                   HEADER_EXTEND: the extension below follows
//   0x04 numThreads 0x08 mPort  0x0c mBufLen  0x10 mWinBand
//   0x14 mAmount    < 0: duration in units of 10 ms (-t); > 0: bytes (-n)
//   0x18 type  0x1c length  0x20 upperflags (16 bits: HEADER_REVERSE -R, HEADER_FULLDUPLEX
//   --full-duplex)  0x22 lowerflags  0x24 version major  0x28 version minor  ...  (60 bytes)
//
// A plain `iperf -c` 2.1.8 sends flags = HEADER_EXTEND with no mode bits and expects
// nothing back: the server just reads. The header is part of the byte stream the client
// counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace tuntcp::engine::services::iperf2 {

constexpr uint32_t kHeaderVersion1 = 0x80000000;
constexpr uint32_t kHeaderExtend = 0x40000000;
constexpr uint32_t kRunNow = 0x00000001;
constexpr uint16_t kUpperReverse = 0x0400;
constexpr uint16_t kUpperFullDuplex = 0x0800;
constexpr size_t kV1Size = 24;
constexpr size_t kExtendedSize = 60;

enum class Mode : uint8_t {
  kReceive,     // the client sends, the server reads (the default)
  kReverse,     // -R: the server sends on the same connection
  kFullDuplex,  // --full-duplex: both send on the same connection
  kDualTest,    // -d: the server also connects back to the client and sends, at once
  kTradeoff,    // -r: the same, after the client's stream ends
};

struct Plan {
  Mode mode = Mode::kReceive;
  // How long or how much the server sends (reverse, full duplex, dual, tradeoff).
  uint64_t duration_us = 0;  // 0: by bytes
  uint64_t bytes = 0;
  uint16_t callback_port = 0;  // dual and tradeoff: the client's listening port
};

// How many bytes of the stream to look at before deciding, given its first 4 (the flags).
size_t header_size(uint32_t flags);
uint32_t read_flags(std::span<const uint8_t, 4> first);
// The test the header asks for. `header` holds header_size(flags) bytes, or fewer when the
// stream ended before that: then it is a plain stream.
Plan parse_plan(std::span<const uint8_t> header);

}  // namespace tuntcp::engine::services::iperf2
