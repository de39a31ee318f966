#include "engine/impair.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "io/vnet.h"
#include "proto/bytes.h"
#include "proto/checksum.h"

namespace tuntcp::engine {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Min-heap order on (release time, arrival order): std::push_heap builds a max-heap, so
// "less" here means "later".
bool later(const HeldQueue::Entry& a, const HeldQueue::Entry& b) {
  return a.release_us != b.release_us ? a.release_us > b.release_us : a.seq > b.seq;
}

}  // namespace

ImpairRng::ImpairRng(uint64_t seed) {
  for (auto& w : s_) w = splitmix64(seed);
}

uint64_t ImpairRng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double ImpairRng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log() stays finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t impair_seed_for(uint64_t seed, uint32_t direction, uint32_t thread) {
  uint64_t x = seed ^ (static_cast<uint64_t>(direction) << 32) ^ thread;
  return splitmix64(x);
}

// ---------------------------------------------------------------------------------------------

Impairment::Impairment(const ImpairSpec& spec, uint64_t seed, uint64_t start_us)
    : spec_(spec), rng_(seed), start_us_(start_us) {}

bool Impairment::in_blackout(uint64_t now_us) const {
  for (const auto& b : spec_.blackouts) {
    const uint64_t from = start_us_ + b.start_us;
    if (now_us >= from && now_us - from < b.length_us) return true;
  }
  return false;
}

// A two-state Markov chain whose stationary loss rate is exactly `loss` and whose lag-1
// correlation is `loss_corr` (netem's "correlation" blends random numbers instead, which
// lowers the effective loss rate; this keeps the rate the spec asks for).
bool Impairment::lose() {
  const double p = spec_.loss;
  if (p <= 0) return false;
  const double c = spec_.loss_corr;
  const double q = last_lost_ ? p + c * (1 - p) : p * (1 - c);
  last_lost_ = rng_.chance(q);
  return last_lost_;
}

uint64_t Impairment::delay_sample() {
  const auto d = static_cast<double>(spec_.delay_us);
  const auto j = static_cast<double>(spec_.jitter_us);
  if (spec_.jitter_us == 0) return spec_.delay_us;
  double v;
  if (spec_.dist == JitterDist::kNormal) {
    v = d + j * rng_.normal();
  } else {
    v = d - j + 2 * j * rng_.uniform();  // netem's default: uniform in [delay-jitter, delay+jitter]
  }
  return v <= 0 ? 0 : static_cast<uint64_t>(std::llround(v));
}

Fate Impairment::fate(uint64_t now_us, uint32_t bytes) {
  Fate f;
  f.release_us = now_us;
  if (lose()) {
    f.lost = true;
    return f;
  }
  f.corrupt = rng_.chance(spec_.corrupt);
  if (!spec_.holds()) return f;
  // netem's reorder: this packet goes at once, ahead of the ones sitting in the delay line.
  if (rng_.chance(spec_.reorder)) {
    f.reordered = true;
    return f;
  }
  uint64_t depart_us = now_us;
  if (spec_.rate_bps) {
    // A serialising link in front of the delay line: each packet waits for the one before.
    const uint64_t now_ns = now_us * 1000;
    const uint64_t tx_ns = static_cast<uint64_t>(bytes) * 8 * 1000000000ull / spec_.rate_bps;
    link_free_ns_ = std::max(now_ns, link_free_ns_) + tx_ns;
    depart_us = link_free_ns_ / 1000;
  }
  f.release_us = depart_us + delay_sample();
  return f;
}

Verdict Impairment::decide(uint64_t now_us, uint32_t bytes) {
  Verdict v;
  if (in_blackout(now_us)) {
    v.blackout = true;
    return v;
  }
  v.duplicate = rng_.chance(spec_.duplicate);
  v.first = fate(now_us, bytes);
  if (v.duplicate) v.second = fate(now_us, bytes);
  return v;
}

// ---------------------------------------------------------------------------------------------

HeldQueue::HeldQueue(uint32_t capacity) : capacity_(capacity) { heap_.reserve(capacity); }

bool HeldQueue::push(uint64_t release_us, uint32_t id, uint32_t len, uint32_t aux) {
  if (heap_.size() >= capacity_) return false;
  heap_.push_back({release_us, seq_++, id, len, aux});
  std::push_heap(heap_.begin(), heap_.end(), later);
  return true;
}

bool HeldQueue::pop_due(uint64_t now_us, Entry& out) {
  if (heap_.empty() || (now_us != kNoRelease && heap_.front().release_us > now_us)) return false;
  std::pop_heap(heap_.begin(), heap_.end(), later);
  out = heap_.back();
  heap_.pop_back();
  return true;
}

// ---------------------------------------------------------------------------------------------

bool corrupt_datagram(uint8_t* pkt, uint32_t vnet_len, uint32_t len, uint64_t random) {
  if (len < vnet_len + 20) return false;
  uint8_t* ip = pkt + vnet_len;
  const uint32_t ip_len = len - vnet_len;
  const uint32_t ihl = (ip[0] >> 4) == 4 ? (ip[0] & 0x0fu) * 4u : 20u;
  if (ihl < 20 || ip_len <= ihl) return false;
  if (vnet_len >= io::kVnetHdrLen) {
    io::VnetHdr v = io::read_vnet(pkt);
    if (v.flags & io::vnet::kNeedsCsum) {
      // The field holds the pseudo-header sum; summing it along with the data from csum_start
      // gives the complement of the full checksum (RFC 1071), as the device would compute it.
      const uint32_t start = v.csum_start, field = v.csum_start + v.csum_offset;
      if (start < ip_len && field + 2 <= ip_len) {
        const uint16_t sum = proto::csum::ones_sum(ip + start, ip_len - start, 0);
        proto::store_be16(ip + field, static_cast<uint16_t>(~sum));
      }
      v.csum_start = 0;
      v.csum_offset = 0;
    }
    v.flags &= static_cast<uint8_t>(~(io::vnet::kNeedsCsum | io::vnet::kDataValid));
    io::write_vnet(pkt, v);
  }
  const uint64_t bits = static_cast<uint64_t>(ip_len - ihl) * 8;
  const uint64_t bit = random % bits;
  ip[ihl + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return true;
}

// ---------------------------------------------------------------------------------------------

ImpairedPath::ImpairedPath(const ImpairSpec& spec, uint64_t seed, uint64_t start_us,
                           uint32_t vnet_len, ImpairCounters counters)
    : imp_(spec, seed, start_us), held_(spec.limit), vnet_len_(vnet_len), c_(counters) {}

void ImpairedPath::admit(uint32_t id, uint32_t len, uint32_t aux, uint64_t now_us, ImpairPort& port) {
  const uint32_t bytes = len > vnet_len_ ? len - vnet_len_ : 0;
  const Verdict v = imp_.decide(now_us, bytes);
  if (v.blackout) {
    c_.dropped->add();
    port.drop(id);
    return;
  }
  // Copy before either copy is corrupted: each copy has its own fate.
  uint32_t dup = ImpairPort::kNoCopy;
  if (v.duplicate) {
    dup = port.copy(id, len);
    if (dup != ImpairPort::kNoCopy) c_.duplicated->add();
  }
  route(id, len, aux, v.first, now_us, port);
  if (dup != ImpairPort::kNoCopy) route(dup, len, aux, v.second, now_us, port);
}

void ImpairedPath::route(uint32_t id, uint32_t len, uint32_t aux, const Fate& f, uint64_t now_us,
                         ImpairPort& port) {
  if (f.lost) {
    c_.dropped->add();
    port.drop(id);
    return;
  }
  if (f.corrupt && corrupt_datagram(port.data(id), vnet_len_, len, imp_.rng().next()))
    c_.corrupted->add();
  if (f.reordered && held_.size() > 0) c_.reordered->add();
  if (f.release_us <= now_us) {
    port.pass(id, len, aux);
    return;
  }
  if (!held_.push(f.release_us, id, len, aux)) {
    c_.overflow->add();
    port.drop(id);
    return;
  }
  c_.delayed->add();
}

void ImpairedPath::release_due(uint64_t now_us, ImpairPort& port) {
  HeldQueue::Entry e;
  while (held_.pop_due(now_us, e)) port.pass(e.id, e.len, e.aux);
}

void ImpairedPath::flush_all(ImpairPort& port, bool pass) {
  HeldQueue::Entry e;
  while (held_.pop_due(kNoRelease, e)) {
    if (pass) port.pass(e.id, e.len, e.aux);
    else port.drop(e.id);
  }
}

}  // namespace tuntcp::engine
