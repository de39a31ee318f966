// Packet buffers that a connection may keep: out-of-order payload is not copied, the buffer it
// lives in is held in the reassembly queue and released once the data is delivered or dropped.
#pragma once

#include <cstdint>

namespace tuntcp::proto::tcp {

// The payload does not live in a buffer that can be held (it must be used during the call).
constexpr uint32_t kNoBuffer = 0xffffffff;

class BufferOwner {
 public:
  virtual ~BufferOwner() = default;
  // Take one more reference on the buffer: it must stay valid until release().
  virtual void hold(uint32_t buffer_id) = 0;
  virtual void release(uint32_t buffer_id) = 0;
};

}  // namespace tuntcp::proto::tcp
