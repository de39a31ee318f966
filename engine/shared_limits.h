// Process-wide state that every worker's TCP stack shares: the budgets of --max-connections and
// --max-memory (they hold for the process, not per worker) and the order connections open in.
// Touched once per connection set-up, tear-down or buffer growth (never per packet), so plain
// relaxed atomics suffice.
#pragma once

#include <atomic>
#include <cstdint>

namespace tuntcp::engine {

struct SharedLimits {
  std::atomic<uint32_t> connections{0};   // TCP connections alive in all workers
  std::atomic<uint64_t> buffer_bytes{0};  // their receive + send buffers, grown ones included
  // Connections created so far in all workers: each takes the next number as its open order.
  std::atomic<uint64_t> opens{0};
};

}  // namespace tuntcp::engine
