// --pcap: every datagram read from and written to the TUN, in a pcap file (link type RAW:
// the records are bare IP datagrams) that tcpdump, tshark and Wireshark read.
//
// The packet threads never block on it: a capture is a copy into a record taken from a
// preallocated free list and pushed to a lock-free queue; a writer thread of its own turns
// records into file writes. No record free (the writer is behind) or the size cap reached:
// the packet is not captured and the loss is counted.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/concurrent_queue.h"

namespace tuntcp::engine {

class PcapWriter {
 public:
  // Opens `path` and writes the file header; throws io::SetupError. `snaplen` bytes of each
  // datagram are kept; the file stops growing at `max_bytes`; `records` bounds the backlog.
  PcapWriter(const std::string& path, uint32_t snaplen, uint64_t max_bytes, uint32_t records);
  ~PcapWriter();

  // Any packet thread. Copies at most snaplen bytes.
  void capture(const uint8_t* datagram, uint32_t len);

  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Record {
    uint32_t sec, usec, caplen, len;
    uint8_t* data;
  };
  void run();

  FILE* file_;
  uint32_t snaplen_;
  uint64_t max_bytes_;
  uint64_t file_bytes_ = 0;
  std::unique_ptr<uint8_t[]> arena_;
  std::vector<Record> records_;
  moodycamel::ConcurrentQueue<Record*> free_, full_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> written_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace tuntcp::engine
