// A worker (shard): takes datagrams from its inbox, runs them through IPv4, ICMP and TCP, and
// writes what they answer through its own io_uring on its own TUN queue. Everything a worker
// touches per packet is its own: no locks, no shared counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/client.h"
#include "engine/handoff.h"
#include "engine/options.h"
#include "engine/packet_io.h"
#include "engine/shared_limits.h"
#include "engine/stats.h"
#include "io/buffer_pool.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/tcp/isn.h"

namespace tuntcp::engine {

class TcpStack;

class Worker {
 public:
  Worker(uint32_t index, int tun_fd, io::BufferPool& pool, uint32_t partition,
         const Options& opts, const proto::tcp::SipKey& isn_secret,
         SharedLimits& limits);
  ~Worker();

  WorkerInbox& inbox() { return inbox_; }
  // Client mode: this worker opens the connection when it starts.
  void set_client(const ClientPlan& plan, ClientResult& result) {
    client_plan_ = plan;
    client_result_ = &result;
  }
  void run();
  // Lets this worker's TCP stack post commands to any worker (set before run()).
  void set_directory(std::vector<WorkerInbox*> inboxes) { directory_ = std::move(inboxes); }
  void set_pcap(PcapWriter* pcap) { io_.set_pcap(pcap); }
  // --impair-out on everything this worker writes (before run()).
  void set_impairment(const ImpairSpec& spec, uint64_t seed, uint64_t start_us) {
    io_.set_impairment(spec, seed, start_us);
  }
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // Asks the worker to finish: it aborts its connections and drains its inbox and in-flight
  // writes first. Call only after every reader has stopped, so nothing new arrives.
  void stop() {
    stop_.store(true, std::memory_order_release);
    inbox_.wake();
  }

  const WorkerStats& stats() const { return stats_; }
  uint32_t buffers_in_use() const { return in_use_.load(std::memory_order_relaxed); }

 private:
  void handle(PacketRef pkt, uint64_t now_us);
  void handle_icmp(PacketRef pkt, const proto::Ipv4View& ip);
  void send_dest_unreachable(const proto::Ipv4View& ip, uint8_t code, uint64_t now_us);
  void process_batch(const PacketRef* pkts, size_t n);
  uint64_t idle_timeout_us(uint64_t now_us) const;
  void run_commands();

  uint32_t index_;
  const Options& opts_;
  proto::tcp::SipKey isn_secret_;
  SharedLimits& limits_;
  WorkerStats stats_;
  PacketIo io_;
  WorkerInbox inbox_;
  proto::icmp::RateLimiter icmp_errors_;
  std::unique_ptr<TcpStack> tcp_;  // lives while run() executes
  std::vector<WorkerInbox*> directory_;
  ClientPlan client_plan_;
  ClientResult* client_result_ = nullptr;
  uint16_t next_ip_id_;
  uint64_t eventfd_value_ = 0;  // target of the pending eventfd read
  bool eventfd_armed_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
  std::atomic<uint32_t> in_use_{0};
};

}  // namespace tuntcp::engine
