// What each io_uring completion is for: the user_data tags of every submission tuntcp makes, in
// one place, so that no two kinds can collide. A reader's ring carries only kRead and kCancel;
// a worker's ring carries writes (a tag that holds the buffer id and length) and kEvent.
#pragma once

#include <cstdint>

#include "io/buffer_pool.h"

namespace tuntcp::engine::tag {

// Reader rings: the multishot (or single) reads of its TUN queue, and their cancellation.
inline constexpr uint64_t kRead = 1;
inline constexpr uint64_t kCancel = 2;

// Worker rings: the read of the worker's eventfd (a reader or command woke it).
inline constexpr uint64_t kEvent = 1ull << 63;

// Worker rings: a TUN write. Bit 62 marks it, bit 61 a zero-copy WRITEV (its payload is not in
// the buffer), bits 32-60 the datagram's length (what a complete write returns), bits 0-31
// the pool buffer.
inline constexpr uint64_t kWrite = 1ull << 62;
inline constexpr uint64_t kZeroCopy = 1ull << 61;

inline uint64_t write(io::BufId id, uint32_t len, bool zero_copy) {
  return kWrite | (zero_copy ? kZeroCopy : 0) | (uint64_t{len} << 32) | id;
}
inline bool is_write(uint64_t t) { return (t & kWrite) != 0 && t != kEvent; }
inline bool is_zero_copy(uint64_t t) { return (t & kZeroCopy) != 0; }
inline io::BufId write_buffer(uint64_t t) { return static_cast<io::BufId>(t & 0xffffffffu); }
inline uint32_t write_len(uint64_t t) { return static_cast<uint32_t>((t >> 32) & 0x1fffffffu); }

}  // namespace tuntcp::engine::tag
