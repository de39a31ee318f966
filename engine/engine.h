// The engine: the TUN device, the buffer pool, the reader and worker threads, and their
// orderly start and stop. main() owns one Engine.
#pragma once

#include <time.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <thread>
#include <vector>

#include "engine/options.h"
#include "engine/pcap.h"
#include "engine/reader.h"
#include "engine/stats.h"
#include "engine/worker.h"
#include "io/buffer_pool.h"
#include "io/tun.h"

namespace tuntcp::engine {

class Engine {
 public:
  // Sets up the device and the pool (throws io::SetupError); start() launches the threads.
  explicit Engine(const Options& opts);
  ~Engine();

  // Client mode: worker 0 opens the connection described by `plan` when it starts.
  void set_client(const ClientPlan& plan, ClientResult& result) { workers_[0]->set_client(plan, result); }
  void start();
  // Stops readers first (their reads cancelled and handed off), then workers (inboxes and
  // writes drained), joins every thread. Idempotent.
  void stop();

  Totals totals() const;
  // Per thread: "r0".."rN" readers, "w0".."wN" workers.
  std::vector<std::pair<std::string, Totals>> thread_totals() const;
  // CPU seconds each thread has used so far (same names and order as thread_totals()).
  std::vector<std::pair<std::string, double>> thread_cpu_seconds() const;
  // Asks every worker to write its connection table to stderr (between its batches).
  void dump_connections();
  uint64_t pool_in_use() const;
  uint64_t pool_total() const { return pool_->total(); }
  // After stop(): buffers not back in the pool (0 when nothing leaked).
  uint64_t buffers_missing() const;
  const io::TunDevice& tun() const { return *tun_; }
  const io::BufferPool& pool() const { return *pool_; }
  const PcapWriter* pcap() const { return pcap_.get(); }
  // Blocks until every thread has set up its ring (before dropping privileges).
  void wait_ready() const;

 private:
  void pin(std::thread& t, size_t thread_index);

  Options opts_;
  std::unique_ptr<io::TunDevice> tun_;
  std::unique_ptr<PcapWriter> pcap_;  // outlives the threads: declared before them
  std::unique_ptr<io::BufferPool> pool_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::vector<std::thread> reader_threads_, worker_threads_;
  std::vector<clockid_t> reader_clocks_, worker_clocks_;
  bool stopped_ = false;
  SharedLimits limits_;  // connections and buffer memory of all workers
};

}  // namespace tuntcp::engine
