#include "proto/tcp/ring.h"

#include <algorithm>
#include <cstring>

namespace tuntcp::proto::tcp {

ByteRing::ByteRing(size_t capacity) : buf_(new uint8_t[capacity ? capacity : 1]), cap_(capacity) {}

size_t ByteRing::write(std::span<const uint8_t> data) {
  size_t n = write_at(len_, data.first(std::min(data.size(), free())));
  commit(n);
  return n;
}

size_t ByteRing::write_at(size_t offset, std::span<const uint8_t> data) {
  if (offset >= cap_) return 0;
  size_t n = std::min(data.size(), cap_ - offset);
  if (n == 0) return 0;
  size_t pos = (head_ + offset) % cap_;
  size_t first = std::min(n, cap_ - pos);
  std::memcpy(buf_.get() + pos, data.data(), first);
  if (n > first) std::memcpy(buf_.get(), data.data() + first, n - first);
  extent_ = std::max(extent_, offset + n);
  return n;
}

void ByteRing::commit(size_t n) {
  len_ = std::min(cap_, len_ + n);
  extent_ = std::max(extent_, len_);
}

void ByteRing::grow(size_t capacity) {
  if (capacity <= cap_) return;
  std::unique_ptr<uint8_t[]> nb(new uint8_t[capacity]);
  size_t first = std::min(extent_, cap_ - head_);
  if (first) std::memcpy(nb.get(), buf_.get() + head_, first);
  if (extent_ > first) std::memcpy(nb.get() + first, buf_.get(), extent_ - first);
  buf_ = std::move(nb);
  cap_ = capacity;
  head_ = 0;
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
  extent_ -= n;
  if (extent_ == 0) head_ = 0;  // keep data contiguous when nothing is stored
  return n;
}

}  // namespace tuntcp::proto::tcp
