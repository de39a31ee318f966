// The engine's clock: CLOCK_MONOTONIC in microseconds (vDSO, no system call). Threads read it
// once per batch and pass the value down; proto and the impairment model never read it.
#pragma once

#include <time.h>

#include <cstdint>

namespace tuntcp::engine::clock {

inline uint64_t now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace tuntcp::engine::clock
