#include "engine/engine.h"

#include <pthread.h>
#include <sched.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/tcp_stack.h"
#include "io/setup_error.h"

namespace tuntcp::engine {
namespace {

// "r0", "w1"...: a thread's short name. Built by appending: GCC 12 warns (-Wrestrict, a false
// positive, GCC PR 105329) on "r" + std::to_string(i) at -O3.
std::string thread_name(char kind, size_t index) {
  std::string name(1, kind);
  name += std::to_string(index);
  return name;
}

// A slot holds the vnet header (with --offload) and the largest datagram: the MTU, or a 64 KB
// super-segment with offloads; rounded to a cache-line multiple so slots never share a line.
uint32_t slot_size_for(const Options& o) {
  const uint32_t datagram = o.offload ? 65535 : o.mtu;
  return (o.vnet_hdr_len() + datagram + 63) / 64 * 64;
}

}  // namespace

Engine::Engine(const Options& opts) : opts_(opts) {
  io::TunConfig tc;
  tc.name = opts_.dev;
  tc.queues = opts_.queues;
  tc.mtu = opts_.mtu;
  tc.txqueuelen = opts_.txqueuelen;
  tc.host_addr = opts_.host_addr;
  tc.prefix_len = opts_.host_prefix;
  tc.offload = opts_.offload;
  tc.attach = opts_.attach;
  tun_ = std::make_unique<io::TunDevice>(tc);
  if (opts_.attach) {
    opts_.mtu = tun_->mtu();  // the device's own MTU sizes buffers and MSS
    if (!tun_->up()) log_warn("--attach: %s is down; bring it up with `ip link set %s up`", tun_->name().c_str(), tun_->name().c_str());
  }
  if (!opts_.pcap.empty()) {
    const uint32_t records = std::clamp<uint32_t>((64u << 20) / opts_.pcap_snaplen, 256, 16384);
    pcap_ = std::make_unique<PcapWriter>(opts_.pcap, opts_.pcap_snaplen, opts_.pcap_max_mb << 20, records);
  }

  // Partition p < queues belongs to reader p; partition queues + w to worker w. A reader's
  // provided-buffer ring addresses buffers with 16-bit ids, so a partition holds at most 32768.
  const uint32_t threads = opts_.queues + opts_.workers;
  const uint32_t per = std::min<uint32_t>(opts_.pool_buffers / threads, 32768);
  pool_ = std::make_unique<io::BufferPool>(threads, per, slot_size_for(opts_));
  log_debug("pool: %u buffers of %u bytes, %zu MiB%s", pool_->total(), pool_->slot_size(),
            pool_->region_bytes() >> 20, pool_->huge_pages() ? ", huge pages" : "");

  // RFC 6528: one random secret per process for the ISN hash.
  proto::tcp::SipKey secret;
  if (getrandom(&secret, sizeof secret, 0) != static_cast<ssize_t>(sizeof secret))
    throw io::SetupError("getrandom failed: no randomness for TCP initial sequence numbers");
  for (uint32_t w = 0; w < opts_.workers; ++w) {
    // Worker w writes on queue w % queues: with equal counts, each worker has its own queue,
    // and the kernel's flow table steers its flows' packets back to that queue's reader.
    workers_.push_back(std::make_unique<Worker>(w, tun_->queue_fd(w % opts_.queues), *pool_,
                                                opts_.queues + w, opts_, secret, limits_));
  }
  std::vector<WorkerInbox*> inboxes;
  for (auto& w : workers_) inboxes.push_back(&w->inbox());
  for (auto& w : workers_) {
    w->set_directory(inboxes);
    w->set_pcap(pcap_.get());
  }
  for (uint32_t q = 0; q < opts_.queues; ++q)
    readers_.push_back(std::make_unique<Reader>(q, tun_->queue_fd(q), *pool_, q, inboxes, opts_, pcap_.get()));
  // --impair: blackout windows count from here, the same instant for both directions.
  const uint64_t impair_start = clock::now_us();
  if (opts_.impair_in.active())
    for (uint32_t q = 0; q < readers_.size(); ++q)
      readers_[q]->set_impairment(opts_.impair_in, impair_seed_for(opts_.impair_seed, 0, q), impair_start);
  if (opts_.impair_out.active())
    for (uint32_t w = 0; w < workers_.size(); ++w)
      workers_[w]->set_impairment(opts_.impair_out, impair_seed_for(opts_.impair_seed, 1, w), impair_start);
}

Engine::~Engine() { stop(); }

void Engine::pin(std::thread& t, size_t thread_index) {
  if (opts_.cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(opts_.cpus[thread_index % opts_.cpus.size()], &set);
  if (int r = pthread_setaffinity_np(t.native_handle(), sizeof set, &set); r != 0)
    log_warn("pinning thread %zu to CPU %d failed: %s", thread_index,
             opts_.cpus[thread_index % opts_.cpus.size()], std::strerror(r));
}

void Engine::start() {
  auto guarded = [](auto* obj, const char* what, uint32_t i) {
    try {
      obj->run();
    } catch (const std::exception& e) {
      log_error("%s %u failed: %s", what, i, e.what());
      std::_Exit(1);
    }
  };
  for (uint32_t w = 0; w < workers_.size(); ++w) {
    worker_threads_.emplace_back(guarded, workers_[w].get(), "worker", w);
    pthread_setname_np(worker_threads_.back().native_handle(), ("tt-worker" + std::to_string(w)).c_str());
    pin(worker_threads_.back(), readers_.size() + w);
    clockid_t c;
    worker_clocks_.push_back(pthread_getcpuclockid(worker_threads_.back().native_handle(), &c) == 0 ? c : -1);
  }
  for (uint32_t q = 0; q < readers_.size(); ++q) {
    reader_threads_.emplace_back(guarded, readers_[q].get(), "reader", q);
    pthread_setname_np(reader_threads_.back().native_handle(), ("tt-reader" + std::to_string(q)).c_str());
    pin(reader_threads_.back(), q);
    clockid_t c;
    reader_clocks_.push_back(pthread_getcpuclockid(reader_threads_.back().native_handle(), &c) == 0 ? c : -1);
  }
}

void Engine::wait_ready() const {
  auto all_ready = [&] {
    for (auto& r : readers_)
      if (!r->ready()) return false;
    for (auto& w : workers_)
      if (!w->ready()) return false;
    return true;
  };
  for (int i = 0; i < 5000 && !all_ready(); ++i) usleep(1000);
}

void Engine::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& r : readers_) r->stop();
  for (auto& t : reader_threads_) t.join();
  for (auto& w : workers_) w->stop();
  for (auto& t : worker_threads_) t.join();
}

Totals Engine::totals() const {
  std::vector<const ReaderStats*> rs;
  std::vector<const WorkerStats*> ws;
  for (auto& r : readers_) rs.push_back(&r->stats());
  for (auto& w : workers_) ws.push_back(&w->stats());
  return sum(rs, ws);
}

std::vector<std::pair<std::string, Totals>> Engine::thread_totals() const {
  std::vector<std::pair<std::string, Totals>> out;
  for (size_t i = 0; i < readers_.size(); ++i) out.emplace_back(thread_name('r', i), sum({&readers_[i]->stats()}, {}));
  for (size_t i = 0; i < workers_.size(); ++i) out.emplace_back(thread_name('w', i), sum({}, {&workers_[i]->stats()}));
  return out;
}

std::vector<std::pair<std::string, double>> Engine::thread_cpu_seconds() const {
  std::vector<std::pair<std::string, double>> out;
  auto read = [](clockid_t c) {
    timespec ts{};
    if (c == static_cast<clockid_t>(-1) || clock_gettime(c, &ts) != 0) return 0.0;
    return ts.tv_sec + ts.tv_nsec / 1e9;
  };
  // Threads that have exited (after stop()) no longer have a CPU clock.
  if (stopped_) return out;
  for (size_t i = 0; i < reader_clocks_.size(); ++i) out.emplace_back(thread_name('r', i), read(reader_clocks_[i]));
  for (size_t i = 0; i < worker_clocks_.size(); ++i) out.emplace_back(thread_name('w', i), read(worker_clocks_[i]));
  return out;
}

void Engine::dump_connections() {
  for (auto& w : workers_) {
    w->inbox().post([](TcpStack& stack) {
      const std::string table = stack.dump_connections();
      std::fprintf(stderr, "connections of worker %u (%u):\n%s", stack.worker(),
                   stack.open_connections(), table.c_str());
    });
  }
}

uint64_t Engine::pool_in_use() const {
  uint64_t n = 0;
  for (auto& r : readers_) n += r->buffers_in_use();
  for (auto& w : workers_) n += w->buffers_in_use();
  return n;
}

uint64_t Engine::buffers_missing() const {
  pool_->reclaim_all_returns();
  uint64_t missing = 0;
  for (uint32_t p = 0; p < pool_->partitions(); ++p)
    missing += pool_->partition(p).size() - pool_->partition(p).free_count();
  return missing;
}

}  // namespace tuntcp::engine
