// TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 3.4).
//
// Every sequence-space computation in proto/tcp goes through this type; raw uint32_t arithmetic
// on sequence numbers appears nowhere else. Comparisons are meaningful when the two numbers are
// less than 2^31 apart, which the window rules guarantee for any number we keep.
#pragma once

#include <cstdint>

namespace tuntcp::proto::tcp {

class Seq {
 public:
  constexpr Seq() = default;
  constexpr explicit Seq(uint32_t v) : v_(v) {}

  constexpr uint32_t raw() const { return v_; }

  constexpr Seq operator+(uint32_t n) const { return Seq(v_ + n); }
  constexpr Seq operator-(uint32_t n) const { return Seq(v_ - n); }
  constexpr Seq& operator+=(uint32_t n) {
    v_ += n;
    return *this;
  }
  // Signed distance this - o (modulo 2^32).
  constexpr int32_t operator-(Seq o) const { return static_cast<int32_t>(v_ - o.v_); }
  // Unsigned distance this - o; use only when this >= o is known.
  constexpr uint32_t since(Seq o) const { return v_ - o.v_; }

  friend constexpr bool operator==(Seq a, Seq b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(Seq a, Seq b) { return a.v_ != b.v_; }
  friend constexpr bool operator<(Seq a, Seq b) { return (a - b) < 0; }
  friend constexpr bool operator<=(Seq a, Seq b) { return (a - b) <= 0; }
  friend constexpr bool operator>(Seq a, Seq b) { return (a - b) > 0; }
  friend constexpr bool operator>=(Seq a, Seq b) { return (a - b) >= 0; }

 private:
  uint32_t v_ = 0;
};

constexpr Seq seq_max(Seq a, Seq b) { return a < b ? b : a; }
constexpr Seq seq_min(Seq a, Seq b) { return a < b ? a : b; }
// lo <= x < hi in sequence space.
constexpr bool seq_in(Seq lo, Seq x, Seq hi) { return lo <= x && x < hi; }

}  // namespace tuntcp::proto::tcp
