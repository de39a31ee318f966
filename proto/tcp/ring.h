// A byte ring for the send and receive buffers. Allocated at construction and only reallocated
// by grow() (receive-window auto-tuning), never per packet. Readable data may wrap, so reads hand
// out up to two spans. The receive side also stores out-of-order data past the readable bytes
// (write_at) and makes it readable once the gap before it is filled (commit).
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

  // Stores `data` at `offset` bytes after the head without making it readable; bytes past the
  // capacity are not stored. Returns the number stored.
  size_t write_at(size_t offset, std::span<const uint8_t> data);
  // Makes the next n bytes after the readable ones readable (written by write_at before).
  void commit(size_t n);
  // Forgets what write_at stored past the readable bytes.
  void drop_unreadable() { extent_ = len_; }
  // Reallocates to a larger capacity, keeping readable and write_at data in place.
  void grow(size_t capacity);

 private:
  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_;
  size_t head_ = 0;
  size_t len_ = 0;
  size_t extent_ = 0;  // bytes after the head holding data (readable or stored by write_at)
};

}  // namespace tuntcp::proto::tcp
