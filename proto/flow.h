// Flow keys and the hash that shards flows over workers.
//
// The key is always oriented from tuntcp's point of view (remote = the kernel-side peer), so
// the reader hashing an incoming packet and a worker choosing a source port for a connection
// it opens compute the same value. Packets without ports (ICMP, other protocols, fragments)
// hash on the address pair alone, so every packet between two hosts meets the same worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/bytes.h"
#include "proto/ipv4.h"

namespace tuntcp::proto {

struct FlowKey {
  uint32_t remote_addr = 0;
  uint32_t local_addr = 0;
  uint16_t remote_port = 0;
  uint16_t local_port = 0;
  uint8_t protocol = 0;
  bool operator==(const FlowKey&) const = default;
};

// 64-bit mix (the murmur3 finaliser): every input bit affects every output bit, a handful of
// cycles, no table. Good enough for sharding and for open-addressed connection tables.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint32_t flow_hash(const FlowKey& k) {
  const uint64_t addrs = static_cast<uint64_t>(k.remote_addr) << 32 | k.local_addr;
  const uint64_t ports = static_cast<uint64_t>(k.remote_port) << 16 | k.local_port;
  return static_cast<uint32_t>(mix64(addrs ^ mix64(ports ^ (uint64_t{k.protocol} << 40))) >> 32);
}

// Maps a 32-bit hash onto [0, n) without a division (Lemire's multiply-shift).
inline uint32_t pick_shard(uint32_t hash, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(hash) * n) >> 32);
}

// Reads just enough of a datagram received from the TUN to compute its flow key: the
// reader's job, before full validation (which the worker does). Anything that is not a
// well-formed enough IPv4 header yields a zero key, so it still goes somewhere deterministic.
inline FlowKey flow_key_of_received(std::span<const uint8_t> pkt) {
  FlowKey k;
  if (pkt.size() < kIpv4MinHeader || (pkt[0] >> 4) != 4) return k;
  const size_t ihl = static_cast<size_t>(pkt[0] & 0x0f) * 4;
  k.remote_addr = load_be32(pkt.data() + 12);
  k.local_addr = load_be32(pkt.data() + 16);
  k.protocol = pkt[9];
  const bool first_fragment_only = (load_be16(pkt.data() + 6) & 0x3fff) == 0;
  const bool has_ports = k.protocol == ipproto::kTcp || k.protocol == ipproto::kUdp;
  if (has_ports && first_fragment_only && ihl >= kIpv4MinHeader && pkt.size() >= ihl + 4) {
    k.remote_port = load_be16(pkt.data() + ihl);
    k.local_port = load_be16(pkt.data() + ihl + 2);
  } else {
    k.protocol = 0;  // address-pair hash for everything without ports
  }
  return k;
}

}  // namespace tuntcp::proto
