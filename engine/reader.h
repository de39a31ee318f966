// A reader thread: services one TUN queue with one io_uring. Reads land in pool buffers that the
// kernel picks from this reader's provided-buffer ring; each datagram's flow hash picks the
// worker, and the buffer handle (never the bytes) goes to that worker's inbox in bulk.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/handoff.h"
#include "engine/impair.h"
#include "engine/options.h"
#include "engine/pcap.h"
#include "engine/stats.h"
#include "io/buffer_pool.h"

namespace tuntcp::engine {

class Reader {
 public:
  Reader(uint32_t index, int tun_fd, io::BufferPool& pool, uint32_t partition,
         std::vector<WorkerInbox*> inboxes, const Options& opts, PcapWriter* pcap = nullptr);

  // The thread body. Returns after stop() once every read has completed and been handed off.
  void run();
  void stop() { stop_.store(true, std::memory_order_relaxed); }
  // --impair-in: impair what this queue reads before any worker sees it (before run()).
  void set_impairment(const ImpairSpec& spec, uint64_t seed, uint64_t start_us);

  const ReaderStats& stats() const { return stats_; }
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // Buffers of this reader that are not free (in flight to workers or in use).
  uint32_t buffers_in_use() const { return in_use_.load(std::memory_order_relaxed); }

 private:
  uint32_t index_;
  int fd_;
  io::BufferPool& pool_;
  uint32_t partition_;
  std::vector<WorkerInbox*> inboxes_;
  const Options& opts_;
  PcapWriter* pcap_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
  std::atomic<uint32_t> in_use_{0};
  ReaderStats stats_;
  std::unique_ptr<ImpairedPath> impair_;  // null without --impair-in
};

}  // namespace tuntcp::engine
