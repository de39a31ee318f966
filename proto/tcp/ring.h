// A fixed-capacity byte ring for the send and receive buffers. Allocated once at construction;
// no allocation afterwards. Readable data may wrap, so reads hand out up to two spans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace tuntcp::proto::tcp {

struct TwoSpans {
  std::span<const uint8_t> a;
  std::span<const uint8_t> b;
  size_t size() const { return a.size() + b.size(); }
};

class ByteRing {
 public:
  explicit ByteRing(size_t capacity);

  size_t capacity() const { return cap_; }
  size_t size() const { return len_; }
  size_t free() const { return cap_ - len_; }
  bool empty() const { return len_ == 0; }

  // Appends as much of `data` as fits; returns the number of bytes appended.
  size_t write(std::span<const uint8_t> data);
  // `len` bytes starting `offset` bytes after the head (clamped to what is stored).
  TwoSpans peek(size_t offset, size_t len) const;
  // Copies out and consumes up to out.size() bytes.
  size_t read(std::span<uint8_t> out);
  // Drops up to n bytes from the head.
  size_t consume(size_t n);

 private:
  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_;
  size_t head_ = 0;
  size_t len_ = 0;
};

}  // namespace tuntcp::proto::tcp
