// The iperf 2 test header, with the bytes a stock iperf 2.1.8 client writes first (captured
// with `iperf -c ... -t 1 [option]` against nc -l).
#include "engine/services/iperf2_header.h"

#include <gtest/gtest.h>

#include <vector>

namespace i2 = tuntcp::engine::services::iperf2;

namespace {

// flags, numThreads, mPort, mBufLen, mWinBand, mAmount, then the 2.1 extension: type, length,
// upper|lower flags, version 2.1 / 8.3, tos, rates, write prefetch.
std::vector<uint8_t> header(uint32_t flags, int32_t amount, uint16_t upper, uint16_t port = 5001) {
  std::vector<uint8_t> h;
  auto put = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) h.push_back(static_cast<uint8_t>(v >> s));
  };
  put(flags);
  put(1);
  put(port);
  put(0);
  put(0);
  put(static_cast<uint32_t>(amount));
  put(0);
  put(0);
  put(uint32_t{upper} << 16);
  put(0x00020001);
  put(0x00080003);
  put(0);
  put(0);
  put(0);
  put(0);
  return h;
}

i2::Plan plan(const std::vector<uint8_t>& h) {
  EXPECT_EQ(i2::header_size(i2::read_flags(std::span<const uint8_t, 4>(h.data(), 4))),
            std::min<size_t>(h.size(), i2::kExtendedSize));
  return i2::parse_plan(h);
}

}  // namespace

TEST(Iperf2Header, PlainClientOnlySends) {
  const auto h = header(0x40010078, -100, 0);  // iperf -c -t 1
  ASSERT_EQ(h.size(), i2::kExtendedSize);
  EXPECT_EQ(plan(h).mode, i2::Mode::kReceive);
}

TEST(Iperf2Header, ReverseAndFullDuplexSendOnTheSameConnection) {
  auto p = plan(header(0x44010078, -200, 0x0400));  // -R -t 2
  EXPECT_EQ(p.mode, i2::Mode::kReverse);
  EXPECT_EQ(p.duration_us, 2000000u);
  EXPECT_EQ(p.bytes, 0u);
  p = plan(header(0x44010078, -100, 0x0800));  // --full-duplex
  EXPECT_EQ(p.mode, i2::Mode::kFullDuplex);
  p = plan(header(0x44010078, 100 << 20, 0x0400));  // -R -n 100M
  EXPECT_EQ(p.mode, i2::Mode::kReverse);
  EXPECT_EQ(p.duration_us, 0u);
  EXPECT_EQ(p.bytes, 100u << 20);
}

TEST(Iperf2Header, DualTestAndTradeoffConnectBack) {
  auto p = plan(header(0xc0010079, -100, 0, 5001));  // -d
  EXPECT_EQ(p.mode, i2::Mode::kDualTest);
  EXPECT_EQ(p.callback_port, 5001);
  EXPECT_EQ(p.duration_us, 1000000u);
  p = plan(header(0xc0010078, -100, 0, 6001));  // -r
  EXPECT_EQ(p.mode, i2::Mode::kTradeoff);
  EXPECT_EQ(p.callback_port, 6001);
  // An iperf 2.0 client: the 24-byte version 1 header only.
  auto v1 = header(0x80000001, -500, 0);
  v1.resize(i2::kV1Size);
  p = plan(v1);
  EXPECT_EQ(p.mode, i2::Mode::kDualTest);
  EXPECT_EQ(p.duration_us, 5000000u);
  EXPECT_EQ(plan(header(0xc0010079, -100, 0, 0)).mode, i2::Mode::kReceive);  // no port
}

TEST(Iperf2Header, NoHeaderOrAShortStreamIsPlain) {
  const std::vector<uint8_t> data(4, 0);  // an old client's data: flags 0
  EXPECT_EQ(i2::parse_plan(data).mode, i2::Mode::kReceive);
  auto h = header(0x44010078, -100, 0x0400);
  h.resize(30);  // the stream ended inside the header
  EXPECT_EQ(i2::parse_plan(h).mode, i2::Mode::kReceive);
  EXPECT_EQ(i2::parse_plan({}).mode, i2::Mode::kReceive);
}

TEST(Iperf2Header, AmountsAreBounded) {
  // A header asking for nothing to be sent is a plain stream; absurd durations are capped.
  EXPECT_EQ(plan(header(0x44010078, 0, 0x0400)).mode, i2::Mode::kReceive);
  const auto p = plan(header(0x44010078, INT32_MIN, 0x0400));
  EXPECT_EQ(p.mode, i2::Mode::kReverse);
  EXPECT_LE(p.duration_us, 86400ull * 1000000);
}
