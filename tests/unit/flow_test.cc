// Flow keys and sharding: flow_key_of_received takes ports from TCP/UDP only, hashes ICMP and
// fragments on the address pair, and turns short or malformed packets into a deterministic key
// without reading past the bytes read; flow_hash is deterministic and spreads flows evenly over
// any shard count; pick_shard is always in range.
#include "proto/flow.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "proto/bytes.h"
#include "proto/ipv4.h"

namespace tuntcp::proto {
namespace {

constexpr uint32_t kLocal = 0xc6120002;   // 198.18.0.2
constexpr uint32_t kRemote = 0xc6120001;  // 198.18.0.1

// A received datagram (kernel -> tuntcp). Only the fields the flow key looks at matter, so the
// checksum is left zero: the reader hashes before validation.
std::vector<uint8_t> packet(uint8_t protocol, uint16_t src_port, uint16_t dst_port,
                            uint16_t frag = 0x4000, uint8_t ihl_words = 5,
                            uint32_t src = kRemote, uint32_t dst = kLocal,
                            size_t payload = 20) {
  const size_t ihl = ihl_words * 4u;
  std::vector<uint8_t> d(ihl + payload, 0);
  d[0] = static_cast<uint8_t>(0x40 | ihl_words);
  store_be16(&d[2], static_cast<uint16_t>(d.size()));
  store_be16(&d[6], frag);
  d[8] = 64;
  d[9] = protocol;
  store_be32(&d[12], src);
  store_be32(&d[16], dst);
  for (size_t i = 20; i < ihl; ++i) d[i] = 1;  // NOP options
  if (payload >= 4) {
    store_be16(&d[ihl], src_port);
    store_be16(&d[ihl + 2], dst_port);
  }
  return d;
}

// Computes the key from an exact-size heap copy, so ASan sees any read past the end.
FlowKey key_exact(const std::vector<uint8_t>& d, size_t n) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[n == 0 ? 1 : n]);
  if (n) std::memcpy(copy.get(), d.data(), n);
  return flow_key_of_received({copy.get(), n});
}
FlowKey key_exact(const std::vector<uint8_t>& d) { return key_exact(d, d.size()); }

FlowKey address_pair(uint32_t remote = kRemote, uint32_t local = kLocal) {
  FlowKey k;
  k.remote_addr = remote;
  k.local_addr = local;
  return k;
}

// ----------------------------------------------------------------------------------------------
// Keys

TEST(FlowKey, TcpKeyHasAddressesPortsAndProtocolFromOurSide) {
  auto k = key_exact(packet(ipproto::kTcp, 43210, 5201));
  EXPECT_EQ(k.remote_addr, kRemote);
  EXPECT_EQ(k.local_addr, kLocal);
  EXPECT_EQ(k.remote_port, 43210);
  EXPECT_EQ(k.local_port, 5201);
  EXPECT_EQ(k.protocol, ipproto::kTcp);
}

TEST(FlowKey, UdpKeyHasPorts) {
  auto k = key_exact(packet(ipproto::kUdp, 5353, 53));
  EXPECT_EQ(k.remote_port, 5353);
  EXPECT_EQ(k.local_port, 53);
  EXPECT_EQ(k.protocol, ipproto::kUdp);
}

TEST(FlowKey, TcpAndUdpWithTheSamePortsAreDifferentFlows) {
  auto t = key_exact(packet(ipproto::kTcp, 1000, 2000));
  auto u = key_exact(packet(ipproto::kUdp, 1000, 2000));
  EXPECT_NE(t, u);
  EXPECT_NE(flow_hash(t), flow_hash(u));
}

TEST(FlowKey, PortsAreReadAfterIpOptions) {
  for (uint8_t words = 5; words <= 15; ++words) {
    auto k = key_exact(packet(ipproto::kTcp, 1111, 2222, 0, words));
    EXPECT_EQ(k.remote_port, 1111) << "ihl " << int{words};
    EXPECT_EQ(k.local_port, 2222) << "ihl " << int{words};
    EXPECT_EQ(k.protocol, ipproto::kTcp);
  }
}

TEST(FlowKey, IcmpUsesTheAddressPairOnly) {
  auto a = key_exact(packet(ipproto::kIcmp, 0x0800, 0x1234));
  auto b = key_exact(packet(ipproto::kIcmp, 0x0000, 0xffff));
  EXPECT_EQ(a, address_pair());
  EXPECT_EQ(b, address_pair());
}

TEST(FlowKey, OtherProtocolsUseTheAddressPairOnly) {
  for (uint8_t proto : {0, 2, 41, 47, 50, 132, 253, 255}) {
    EXPECT_EQ(key_exact(packet(proto, 1, 2)), address_pair()) << "protocol " << int{proto};
  }
}

TEST(FlowKey, FragmentsUseTheAddressPairRegardlessOfPorts) {
  // First fragment (MF, offset 0) carries the ports, later ones do not: all must meet.
  const uint16_t frags[] = {0x2000, 0x2001, 0x00b9, 0x3fff, 0x6000, 0x1fff, 0x0001};
  for (uint8_t proto : {ipproto::kTcp, ipproto::kUdp}) {
    for (uint16_t f : frags) {
      auto a = key_exact(packet(proto, 1000, 80, f));
      auto b = key_exact(packet(proto, 2000, 443, f));
      EXPECT_EQ(a, address_pair()) << "frag 0x" << std::hex << f;
      EXPECT_EQ(a, b);
      EXPECT_EQ(flow_hash(a), flow_hash(b));
    }
  }
}

TEST(FlowKey, DontFragmentAndReservedBitsDoNotMakeAFragment) {
  for (uint16_t f : {uint16_t{0}, uint16_t{0x4000}, uint16_t{0x8000}, uint16_t{0xc000}}) {
    auto k = key_exact(packet(ipproto::kTcp, 1, 2, f));
    EXPECT_EQ(k.protocol, ipproto::kTcp) << "frag 0x" << std::hex << f;
    EXPECT_EQ(k.remote_port, 1);
  }
}

TEST(FlowKey, ShorterThanAnIpv4HeaderGivesTheZeroKey) {
  auto full = packet(ipproto::kTcp, 1, 2);
  for (size_t n = 0; n < 20; ++n) EXPECT_EQ(key_exact(full, n), FlowKey{}) << "n " << n;
}

TEST(FlowKey, NonIpv4GivesTheZeroKey) {
  for (uint8_t v : {0, 1, 5, 6, 15}) {
    auto d = packet(ipproto::kTcp, 1, 2);
    d[0] = static_cast<uint8_t>(v << 4 | 5);
    EXPECT_EQ(key_exact(d), FlowKey{}) << "version " << int{v};
  }
}

TEST(FlowKey, TransportHeaderCutShortGivesTheAddressPair) {
  // TCP packet whose ports are not (fully) in the bytes read.
  for (uint8_t words : {5, 6, 15}) {
    auto full = packet(ipproto::kTcp, 1, 2, 0, words);
    const size_t ihl = words * 4u;
    for (size_t n = std::max<size_t>(20, ihl - 3); n < ihl + 4; ++n)
      EXPECT_EQ(key_exact(full, n), address_pair()) << "ihl " << ihl << " n " << n;
    EXPECT_EQ(key_exact(full, ihl + 4).remote_port, 1);
  }
}

TEST(FlowKey, IhlBelow5GivesTheAddressPair) {
  for (uint8_t words = 0; words < 5; ++words) {
    auto d = packet(ipproto::kTcp, 1, 2);
    d[0] = static_cast<uint8_t>(0x40 | words);
    EXPECT_EQ(key_exact(d), address_pair()) << "ihl " << int{words};
  }
}

TEST(FlowKey, IhlBeyondTheBytesReadGivesTheAddressPair) {
  auto d = packet(ipproto::kUdp, 1, 2, 0, 5, kRemote, kLocal, 8);  // 28 bytes
  d[0] = 0x4f;                                                    // claims a 60-byte header
  EXPECT_EQ(key_exact(d), address_pair());
}

TEST(FlowKey, RandomBytesGiveADeterministicKeyWithoutReadingOutOfBounds) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 50000; ++i) {
    const size_t n = rng() % 96;
    std::vector<uint8_t> d(n);
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    if (n && (i & 1)) d[0] = static_cast<uint8_t>(0x40 | (d[0] & 0x0f));
    if (n > 9 && (i & 2)) d[9] = (i & 4) ? ipproto::kTcp : ipproto::kUdp;
    if (n > 7 && (i & 8)) d[6] = d[7] = 0;
    const FlowKey a = key_exact(d);
    const FlowKey b = key_exact(d);
    ASSERT_EQ(a, b);
    ASSERT_EQ(flow_hash(a), flow_hash(b));
    // Ports only ever come with TCP/UDP.
    if (a.remote_port || a.local_port) {
      ASSERT_TRUE(a.protocol == ipproto::kTcp || a.protocol == ipproto::kUdp);
    }
  }
}

// ----------------------------------------------------------------------------------------------
// Hash

TEST(FlowHash, SameKeyAlwaysGivesTheSameHash) {
  FlowKey k{0x0a000001, 0x0a000002, 12345, 80, ipproto::kTcp};
  const uint32_t h = flow_hash(k);
  for (int i = 0; i < 100; ++i) {
    FlowKey copy = k;
    EXPECT_EQ(flow_hash(copy), h);
  }
  // The key of a received packet and the key built by hand (a worker picking a source port
  // for a connection it opens) hash the same.
  EXPECT_EQ(flow_hash(key_exact(packet(ipproto::kTcp, 12345, 80, 0, 5, 0x0a000001, 0x0a000002))),
            h);
}

TEST(FlowHash, EveryFieldChangesTheHash) {
  std::mt19937_64 rng(17);
  for (int i = 0; i < 1000; ++i) {
    FlowKey k{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()),
              static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()), ipproto::kTcp};
    const uint32_t h = flow_hash(k);
    FlowKey m = k;
    m.remote_addr ^= 1u << (rng() % 32);
    EXPECT_NE(flow_hash(m), h);
    m = k;
    m.local_addr ^= 1u << (rng() % 32);
    EXPECT_NE(flow_hash(m), h);
    m = k;
    m.remote_port ^= static_cast<uint16_t>(1u << (rng() % 16));
    EXPECT_NE(flow_hash(m), h);
    m = k;
    m.local_port ^= static_cast<uint16_t>(1u << (rng() % 16));
    EXPECT_NE(flow_hash(m), h);
    m = k;
    m.protocol = ipproto::kUdp;
    EXPECT_NE(flow_hash(m), h);
  }
}

TEST(FlowHash, SwappedPortsAreDifferentFlows) {
  FlowKey a{kRemote, kLocal, 1000, 2000, ipproto::kTcp};
  FlowKey b{kRemote, kLocal, 2000, 1000, ipproto::kTcp};
  EXPECT_NE(flow_hash(a), flow_hash(b));
}

// Counts per shard; every count within ±5% of the mean.
void expect_even(const std::vector<uint32_t>& hashes, uint32_t n) {
  std::vector<size_t> count(n);
  for (uint32_t h : hashes) ++count[pick_shard(h, n)];
  const double mean = static_cast<double>(hashes.size()) / n;
  for (uint32_t s = 0; s < n; ++s) {
    EXPECT_NEAR(static_cast<double>(count[s]), mean, mean * 0.05)
        << "shard " << s << " of " << n;
  }
}

TEST(FlowHash, RandomFourTuplesSpreadEvenlyOverShards) {
  std::mt19937_64 rng(2024);
  std::vector<uint32_t> hashes;
  hashes.reserve(100000);
  for (int i = 0; i < 100000; ++i) {
    FlowKey k{static_cast<uint32_t>(rng()), kLocal, static_cast<uint16_t>(rng()),
              static_cast<uint16_t>(rng()), ipproto::kTcp};
    hashes.push_back(flow_hash(k));
  }
  for (uint32_t n : {2u, 3u, 4u, 7u, 16u}) expect_even(hashes, n);
}

TEST(FlowHash, EphemeralPortsOfAFewClientsSpreadEvenlyOverShards) {
  // The common benchmark case: a handful of client addresses, one server port, consecutive
  // ephemeral source ports. Nothing random here, so the hash must do all the spreading.
  std::vector<uint32_t> hashes;
  for (uint32_t client = 0; client < 4; ++client)
    for (uint32_t port = 32768; port < 32768 + 25000; ++port)
      hashes.push_back(flow_hash(FlowKey{kRemote + client, kLocal, static_cast<uint16_t>(port),
                                         5201, ipproto::kTcp}));
  ASSERT_EQ(hashes.size(), 100000u);
  for (uint32_t n : {2u, 3u, 4u, 7u, 16u}) expect_even(hashes, n);
}

TEST(FlowHash, AddressPairsSpreadEvenlyOverShards) {
  // ICMP / fragments: only addresses vary.
  std::vector<uint32_t> hashes;
  for (uint32_t i = 0; i < 100000; ++i)
    hashes.push_back(flow_hash(address_pair(0x0a000000u + i, kLocal)));
  for (uint32_t n : {2u, 3u, 4u, 7u, 16u}) expect_even(hashes, n);
}

// ----------------------------------------------------------------------------------------------
// pick_shard

TEST(PickShard, AlwaysBelowTheShardCount) {
  std::mt19937 rng(3);
  const uint32_t edge_hashes[] = {0u, 1u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
  for (uint32_t n = 1; n <= 1024; ++n) {
    for (uint32_t h : edge_hashes) ASSERT_LT(pick_shard(h, n), n) << "h " << h << " n " << n;
    for (int i = 0; i < 64; ++i) {
      const uint32_t h = rng();
      ASSERT_LT(pick_shard(h, n), n) << "h " << h << " n " << n;
    }
  }
  for (uint32_t n : {0x10000u, 0x7fffffffu, 0xffffffffu})
    for (uint32_t h : edge_hashes) ASSERT_LT(pick_shard(h, n), n);
}

TEST(PickShard, OneShardTakesEverything) {
  for (uint32_t h : {0u, 1u, 12345u, 0xffffffffu}) EXPECT_EQ(pick_shard(h, 1), 0u);
}

TEST(PickShard, EndsOfTheHashRangeMapToTheFirstAndLastShard) {
  for (uint32_t n : {2u, 3u, 7u, 16u, 256u}) {
    EXPECT_EQ(pick_shard(0, n), 0u);
    EXPECT_EQ(pick_shard(0xffffffffu, n), n - 1);
  }
}

TEST(PickShard, EveryShardIsReachable) {
  for (uint32_t n : {2u, 3u, 5u, 7u, 16u, 64u}) {
    std::set<uint32_t> seen;
    for (uint64_t h = 0; h <= 0xffffffffu; h += 0x10000) seen.insert(pick_shard(static_cast<uint32_t>(h), n));
    EXPECT_EQ(seen.size(), n);
  }
}

}  // namespace
}  // namespace tuntcp::proto
