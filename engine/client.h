// Client mode (--connect): one connection opened by tuntcp, sending a pattern or a file and/or
// counting what the peer sends, with a report at the end. The result is published to the main
// thread through an atomic flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>

#include "engine/app.h"

namespace tuntcp::engine {

struct ClientResult {
  std::atomic<int> state{0};  // 0 running, 1 finished cleanly, 2 failed
  // Written by the worker before `state` is stored (release), read after (acquire).
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t connect_us = 0;  // SYN to established
  uint64_t transfer_us = 0;  // established to closed
  std::string outcome;
};

struct ClientPlan {
  std::span<const uint8_t> file;  // send this (mmap'd by main), or
  uint64_t pattern_bytes = 0;     // this many bytes of the test pattern
  bool receive = false;
};

std::unique_ptr<App> make_client(const ClientPlan& plan, ClientResult& result, uint64_t start_us);

// The test pattern: byte i of the stream is pattern_byte(i). Deterministic, so a receiver can
// check it (tests compute its sha256 the same way).
inline uint8_t pattern_byte(uint64_t i) { return static_cast<uint8_t>((i * 131 + (i >> 12)) & 0xff); }

}  // namespace tuntcp::engine
