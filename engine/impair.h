// A netem-like impairment of one direction of the TUN link, applied by tuntcp itself where the
// wire would be: to datagrams read from the TUN before the engine sees them (reader), and to
// datagrams the engine built before they are written (PacketIo). The kernel here has no
// sch_netem, so this is how the fault matrix gets loss, delay, reordering, duplication,
// corruption and blackouts (see engine/impair_spec.h for the spec syntax).
//
// Sans-IO: time comes in as microseconds, randomness from a seeded PRNG (--impair-seed), and
// buffers are opaque 32-bit ids that the caller's ImpairPort reads, copies, passes on or frees.
// Held (delayed) packets keep their buffer: no copy, just the id in a bounded queue ordered by
// release time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/impair_spec.h"
#include "engine/stats.h"

namespace tuntcp::engine {

inline constexpr uint64_t kNoRelease = ~uint64_t{0};

// xoshiro256** seeded through splitmix64: fast, good enough for fault decisions, reproducible.
class ImpairRng {
 public:
  explicit ImpairRng(uint64_t seed);
  uint64_t next();
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool chance(double p) { return p > 0 && uniform() < p; }
  double normal();  // standard normal (Box-Muller)

 private:
  uint64_t s_[4];
};

// What happens to one copy of a packet.
struct Fate {
  bool lost = false;
  bool corrupt = false;
  bool reordered = false;   // skipped the delay: overtakes packets still held
  uint64_t release_us = 0;  // when it goes on; the arrival time itself means at once
};

struct Verdict {
  bool blackout = false;  // dropped by a blackout window (no copies at all)
  Fate first;
  bool duplicate = false;  // a second copy, with a fate of its own (as netem re-enqueues it)
  Fate second;
};

// The decisions, without buffers: loss (optionally correlated), delay with jitter, reordering,
// duplication, corruption, rate and blackout windows.
class Impairment {
 public:
  // `start_us`: the time blackout windows count from (tuntcp's start).
  Impairment(const ImpairSpec& spec, uint64_t seed, uint64_t start_us);
  // The fate of a packet of `bytes` (the IP datagram) arriving at `now_us`.
  Verdict decide(uint64_t now_us, uint32_t bytes);
  bool in_blackout(uint64_t now_us) const;
  const ImpairSpec& spec() const { return spec_; }
  ImpairRng& rng() { return rng_; }

 private:
  Fate fate(uint64_t now_us, uint32_t bytes);
  bool lose();
  uint64_t delay_sample();

  ImpairSpec spec_;
  ImpairRng rng_;
  uint64_t start_us_;
  bool last_lost_ = false;
  uint64_t link_free_ns_ = 0;  // rate: when the (serialising) link is idle again
};

// Delayed packets, earliest release first; packets with equal release times keep their order.
// Bounded: push() refuses when full and the caller drops the packet.
class HeldQueue {
 public:
  struct Entry {
    uint64_t release_us;
    uint64_t seq;
    uint32_t id;
    uint32_t len;
    uint32_t aux;
  };
  explicit HeldQueue(uint32_t capacity);
  bool push(uint64_t release_us, uint32_t id, uint32_t len, uint32_t aux);
  // Pops the earliest entry if it is due at `now_us` (any entry with kNoRelease).
  bool pop_due(uint64_t now_us, Entry& out);
  uint64_t next_release_us() const { return heap_.empty() ? kNoRelease : heap_.front().release_us; }
  size_t size() const { return heap_.size(); }
  uint32_t capacity() const { return capacity_; }

 private:
  std::vector<Entry> heap_;
  uint32_t capacity_;
  uint64_t seq_ = 0;
};

// Flips one random bit of the transport part (after the IPv4 header) of the datagram in `pkt`
// (`len` bytes, of which the first `vnet_len` are an io::VnetHdr). The receiver must catch it
// with its checksum, so when the vnet header says NEEDS_CSUM (only the pseudo-header sum is in
// the field) the full checksum is computed first, and NEEDS_CSUM and DATA_VALID are cleared:
// tuntcp and the kernel then verify instead of trusting. Returns false (and changes nothing)
// when there is no transport part.
bool corrupt_datagram(uint8_t* pkt, uint32_t vnet_len, uint32_t len, uint64_t random);

// The caller's buffer operations. Ids and lengths are the caller's (len counts the whole buffer
// content, vnet header included); `aux` travels with a held packet (the reader's worker index).
class ImpairPort {
 public:
  virtual ~ImpairPort() = default;
  virtual uint8_t* data(uint32_t id) = 0;
  // A copy of the buffer's first `len` bytes in a new buffer, or kNoCopy when none is free.
  virtual uint32_t copy(uint32_t id, uint32_t len) = 0;
  virtual void pass(uint32_t id, uint32_t len, uint32_t aux) = 0;
  virtual void drop(uint32_t id) = 0;
  static constexpr uint32_t kNoCopy = ~uint32_t{0};
};

// Counters of one direction (owned by the thread's stats block).
struct ImpairCounters {
  Counter* dropped;     // lost, or in a blackout
  Counter* delayed;     // held for later release
  Counter* duplicated;
  Counter* corrupted;
  Counter* reordered;   // sent at once while others were delayed
  Counter* overflow;    // dropped because the held queue was full
};

// One direction: decisions plus the held queue, driving a port.
class ImpairedPath {
 public:
  ImpairedPath(const ImpairSpec& spec, uint64_t seed, uint64_t start_us, uint32_t vnet_len,
               ImpairCounters counters);
  // A packet arrives at `now_us`: dropped, passed on (maybe twice, maybe corrupted) or held.
  void admit(uint32_t id, uint32_t len, uint32_t aux, uint64_t now_us, ImpairPort& port);
  // Passes on every held packet that is due.
  void release_due(uint64_t now_us, ImpairPort& port);
  // Shutdown: passes on (or drops) every held packet regardless of its time.
  void flush_all(ImpairPort& port, bool pass);
  uint64_t next_release_us() const { return held_.next_release_us(); }
  size_t held() const { return held_.size(); }
  const ImpairSpec& spec() const { return imp_.spec(); }

 private:
  void route(uint32_t id, uint32_t len, uint32_t aux, const Fate& f, uint64_t now_us, ImpairPort& port);

  Impairment imp_;
  HeldQueue held_;
  uint32_t vnet_len_;
  ImpairCounters c_;
};

// A per-thread seed: the same --impair-seed gives every direction and thread its own stream.
uint64_t impair_seed_for(uint64_t seed, uint32_t direction, uint32_t thread);

}  // namespace tuntcp::engine
