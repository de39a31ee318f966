#include "proto/tcp/ring.h"

#include <algorithm>
#include <cstring>

namespace tuntcp::proto::tcp {

ByteRing::ByteRing(size_t capacity) : buf_(new uint8_t[capacity ? capacity : 1]), cap_(capacity) {}

size_t ByteRing::write(std::span<const uint8_t> data) {
  size_t n = std::min(data.size(), free());
  if (n == 0) return 0;
  size_t tail = (head_ + len_) % cap_;
  size_t first = std::min(n, cap_ - tail);
  std::memcpy(buf_.get() + tail, data.data(), first);
  if (n > first) std::memcpy(buf_.get(), data.data() + first, n - first);
  len_ += n;
  return n;
}

TwoSpans ByteRing::peek(size_t offset, size_t len) const {
  if (offset >= len_) return {};
  len = std::min(len, len_ - offset);
  if (len == 0) return {};
  size_t start = (head_ + offset) % cap_;
  size_t first = std::min(len, cap_ - start);
  TwoSpans s;
  s.a = std::span<const uint8_t>(buf_.get() + start, first);
  if (len > first) s.b = std::span<const uint8_t>(buf_.get(), len - first);
  return s;
}

size_t ByteRing::read(std::span<uint8_t> out) {
  TwoSpans s = peek(0, out.size());
  if (!s.a.empty()) std::memcpy(out.data(), s.a.data(), s.a.size());
  if (!s.b.empty()) std::memcpy(out.data() + s.a.size(), s.b.data(), s.b.size());
  return consume(s.size());
}

size_t ByteRing::consume(size_t n) {
  n = std::min(n, len_);
  if (n == 0) return 0;
  head_ = (head_ + n) % cap_;
  len_ -= n;
  if (len_ == 0) head_ = 0;
  return n;
}

}  // namespace tuntcp::proto::tcp
