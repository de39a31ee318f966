// PacketIo's zero-copy transmit: headers from a pool buffer and the payload from elsewhere (the
// connection's send ring) in one WRITEV, submitted with the batch. After quiesce_zero_copy()
// the kernel has the bytes and the payload may be freed or moved. A pipe stands in for the TUN.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "engine/packet_io.h"
#include "io/buffer_pool.h"
#include "io/uring.h"

namespace tuntcp::engine {
namespace {

TEST(PacketIo, ZeroCopyWriteHasTakenThePayloadAfterQuiesce) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  io::BufferPool pool(1, 16, 4096);
  WorkerStats stats;
  io::Ring ring(16);
  constexpr uint32_t kVnet = 12;
  PacketIo io(0, p[1], pool, 0, 8, kVnet, stats);
  io.attach(&ring);
  io.enable_zero_copy(true);
  ASSERT_TRUE(io.zero_copy());

  std::string a(30000, 'a'), b(20000, 'b');
  io::BufId id = io.alloc_tx();
  ASSERT_NE(id, io::kNoBuf);
  std::fill_n(io.ip(id), 40, uint8_t{'h'});
  io::VnetHdr v;
  v.flags = io::vnet::kNeedsCsum;
  v.csum_start = 20;
  v.csum_offset = 16;
  io.transmit_zero_copy(id, 40, {reinterpret_cast<const uint8_t*>(a.data()), a.size()},
                        {reinterpret_cast<const uint8_t*>(b.data()), b.size()}, v);
  EXPECT_EQ(io.writes_in_flight(), 1u);  // queued with the batch
  io.quiesce_zero_copy();
  // The payload may change or go now: what was written must not.
  std::fill(a.begin(), a.end(), 'X');
  std::fill(b.begin(), b.end(), 'Y');
  EXPECT_EQ(stats.tx_zero_copy.get(), 1u);
  EXPECT_EQ(io.writes_in_flight(), 0u);  // completed, and the header buffer released
  EXPECT_EQ(io.buffers_in_use(), 0u);

  std::vector<uint8_t> got(kVnet + 40 + 50000);
  size_t n = 0;
  while (n < got.size()) {
    ssize_t r = read(p[0], got.data() + n, got.size() - n);
    ASSERT_GT(r, 0);
    n += static_cast<size_t>(r);
  }
  EXPECT_EQ(io::read_vnet(got.data()).flags, io::vnet::kNeedsCsum);
  EXPECT_EQ(got[kVnet], 'h');
  EXPECT_EQ(got[kVnet + 39], 'h');
  EXPECT_EQ(got[kVnet + 40], 'a');
  EXPECT_EQ(got[kVnet + 40 + 29999], 'a');
  EXPECT_EQ(got[kVnet + 40 + 30000], 'b');
  EXPECT_EQ(got.back(), 'b');
  io.attach(nullptr);
  close(p[0]);
  close(p[1]);
}

TEST(PacketIo, ZeroCopyNeedsOffloadsAndNoCapture) {
  io::BufferPool pool(1, 16, 4096);
  WorkerStats stats;
  PacketIo plain(0, -1, pool, 0, 8, 0, stats);
  plain.enable_zero_copy(true);
  EXPECT_FALSE(plain.zero_copy());  // without the vnet header there is no checksum offload
}

}  // namespace
}  // namespace tuntcp::engine
