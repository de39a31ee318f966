// A worker (shard): takes datagrams from its inbox, runs them through the protocol layers, and
// writes what they answer through its own io_uring on its own TUN queue. Everything a worker
// touches per packet is its own: no locks, no shared counters.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/handoff.h"
#include "engine/options.h"
#include "engine/stats.h"
#include "io/buffer_pool.h"
#include "proto/icmp.h"

namespace tuntcp::io {
class Ring;
}

namespace tuntcp::engine {

class Worker {
 public:
  Worker(uint32_t index, int tun_fd, io::BufferPool& pool, uint32_t partition,
         const Options& opts);

  WorkerInbox& inbox() { return inbox_; }
  void run();
  // Asks the worker to finish: it drains its inbox and in-flight writes first. Call only after
  // every reader has stopped, so nothing new arrives.
  void stop() {
    stop_.store(true, std::memory_order_release);
    inbox_.wake();
  }

  const WorkerStats& stats() const { return stats_; }
  uint32_t buffers_in_use() const { return in_use_.load(std::memory_order_relaxed); }

 private:
  void handle(PacketRef pkt, uint64_t now_us);
  void handle_icmp(PacketRef pkt, const struct proto::Ipv4View& ip);
  void send_dest_unreachable(const proto::Ipv4View& ip, uint8_t code, uint64_t now_us);
  void transmit(io::BufId id, uint32_t len);
  void release(io::BufId id);
  void reap_completions();

  uint32_t index_;
  int fd_;
  io::BufferPool& pool_;
  uint32_t partition_;
  io::Partition& own_;
  const Options& opts_;
  WorkerInbox inbox_;
  io::ReturnBatch returns_;
  proto::icmp::RateLimiter icmp_errors_;
  io::Ring* ring_ = nullptr;  // valid while run() executes
  uint32_t writes_in_flight_ = 0;
  uint16_t next_ip_id_;
  uint64_t eventfd_value_ = 0;  // target of the pending eventfd read
  bool eventfd_armed_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> in_use_{0};
  WorkerStats stats_;
};

}  // namespace tuntcp::engine
