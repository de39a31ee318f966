// Process-wide budgets that every worker's TCP stack draws from: --max-connections and
// --max-memory hold for the process, not per worker. Touched once per connection set-up,
// tear-down or buffer growth (never per packet), so plain relaxed atomics suffice.
#pragma once

#include <atomic>
#include <cstdint>

namespace tuntcp::engine {

struct SharedLimits {
  std::atomic<uint32_t> connections{0};   // TCP connections alive in all workers
  std::atomic<uint64_t> buffer_bytes{0};  // their receive + send buffers, grown ones included
};

}  // namespace tuntcp::engine
