// What an impairment does to one direction of the link, as parsed from a netem-like spec string
// (--impair, --impair-in, --impair-out). This machine's kernel has no sch_netem, so tuntcp
// impairs its own TUN boundary instead; the keys follow netem's names where netem has one.
//
//   loss=1%          packets lost                     loss-corr=25%  lag-1 correlation of losses
//   delay=20ms       added one-way delay              jitter=5ms     +- spread of the delay
//   dist=uniform     jitter distribution (or normal)  reorder=25%    sent at once, skipping delay
//   duplicate=5%     packets sent twice               corrupt=1%     one bit flipped after IP hdr
//   rate=100mbit     link rate (bit, kbit, mbit, gbit; per thread)
//   limit=1000       packets held (delayed) at most; beyond it they are dropped and counted
//   blackout=5s@3s   everything dropped from 3 s to 8 s after tuntcp started (repeatable)
//
// Times take a unit: us, ms or s. Percentages take a '%'. "" or "none" is no impairment.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tuntcp::engine {

enum class JitterDist : uint8_t { kUniform, kNormal };

struct Blackout {
  uint64_t start_us = 0;   // after tuntcp started
  uint64_t length_us = 0;
};

struct ImpairSpec {
  double loss = 0;       // probability, 0..1
  double loss_corr = 0;  // 0..1: chance a loss (or a delivery) repeats the previous outcome
  uint64_t delay_us = 0;
  uint64_t jitter_us = 0;
  JitterDist dist = JitterDist::kUniform;
  double reorder = 0;    // probability a packet skips the delay (netem's reorder; needs a delay)
  double duplicate = 0;
  double corrupt = 0;
  uint64_t rate_bps = 0;  // 0 = unlimited
  uint32_t limit = 1000;  // netem's default queue limit
  std::vector<Blackout> blackouts;

  bool active() const {
    return loss > 0 || delay_us || jitter_us || reorder > 0 || duplicate > 0 || corrupt > 0 ||
           rate_bps || !blackouts.empty();
  }
  // Whether packets may be held (so a queue and timed release are needed).
  bool holds() const { return delay_us || jitter_us || rate_bps; }
};

// Parses `text` into `out`. Returns false with a one-line reason in `err` on a bad spec.
bool parse_impair_spec(std::string_view text, ImpairSpec& out, std::string& err);

// The spec in the same syntax (normalised), "none" when inactive.
std::string describe(const ImpairSpec& s);

}  // namespace tuntcp::engine
